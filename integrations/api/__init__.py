"""REST API of the integrations app."""

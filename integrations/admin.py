"""Admin (back-office) pages of the integrations app."""

"""Models of the integrations app (filled in by its own issue)."""

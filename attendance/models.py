"""Models of the attendance app (filled in by its own issue)."""

"""Models of the faces app (filled in by its own issue)."""

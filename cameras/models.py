"""Models of the cameras app (filled in by its own issue)."""

"""Models of the detections app (filled in by its own issue)."""

"""REST API of the detections app."""

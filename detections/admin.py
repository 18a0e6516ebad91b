"""Admin (back-office) pages of the detections app."""

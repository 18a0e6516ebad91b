"""Commands that run the camera supervisor."""

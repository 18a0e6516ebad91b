"""REST API of the cameras app."""

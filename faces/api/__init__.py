"""REST API of the faces app."""

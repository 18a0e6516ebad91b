"""REST API of the attendance app."""

"""Management commands of the faces app."""

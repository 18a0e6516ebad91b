"""Commands that enrol faces in bulk."""

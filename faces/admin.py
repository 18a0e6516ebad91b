"""Admin (back-office) pages of the faces app."""

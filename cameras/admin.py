"""Admin (back-office) pages of the cameras app."""

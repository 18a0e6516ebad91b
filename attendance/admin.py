"""Admin (back-office) pages of the attendance app."""

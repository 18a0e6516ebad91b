"""Commands that set up the project rather than one app (demo data)."""

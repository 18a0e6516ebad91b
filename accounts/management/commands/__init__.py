"""Commands that set up the first users."""

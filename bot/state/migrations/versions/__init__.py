"""Schema revisions, oldest first by number; each names the one before it."""

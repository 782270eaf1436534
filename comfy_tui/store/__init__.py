"""Persistence that knows nothing of the UI: atomic JSON files and the SQLite index."""

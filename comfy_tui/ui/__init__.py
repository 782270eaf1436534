"""The Textual front end: screens render, services act."""

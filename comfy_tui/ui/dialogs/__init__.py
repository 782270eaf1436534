"""Modal dialogs: help, confirm, errors."""

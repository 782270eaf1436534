"""Pure logic with no I/O: version sorting, torch-backend choice, progress weighting."""

"""Live job progress of running ComfyUI instances (`/ws`), and queueing work on them."""

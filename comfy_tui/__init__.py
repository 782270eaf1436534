"""comfy-tui: a keyboard-driven terminal app for ComfyUI on headless GPU boxes."""

__version__ = "0.1.0"

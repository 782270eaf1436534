"""Version of the fake ComfyUI (the repo builder rewrites it per tag)."""

__version__ = "0.3.77"

"""What the TUI's import field names: one file or folder, or a glob pattern for several
(`~/dl/*.safetensors`), as a shell expands it for `models import PATH…`; the paths then go to
the same `LibraryService.import_paths` the CLI calls."""

from __future__ import annotations

import glob
from pathlib import Path

from comfy_tui.errors import ValidationError

__all__ = ["import_sources"]

GLOB_CHARS = "*?["


def import_sources(text: str) -> list[Path]:
    """The paths `text` names (blocking: call it from a thread). An existing path is itself
    even when its name has `*?[`; a pattern that matches nothing is a ValidationError."""
    path = Path(text).expanduser()
    if path.exists() or not any(c in text for c in GLOB_CHARS):
        return [path]
    found = sorted(Path(p) for p in glob.glob(str(path)))
    if not found:
        raise ValidationError(f"nothing matches {text}")
    return found

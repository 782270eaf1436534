"""The output folder of a launch: `launch --output-dir DIR` (CLI) and an `--output-directory DIR`
typed in the TUI's Extra flags both become ComfyUI's `--output-directory`, and the launch
creates that folder first (`plan_launch`, for every front end and for a restart)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from comfy_tui.errors import ValidationError

__all__ = ["make_output_folder", "output_dir_args"]

FLAG = "--output-directory"


def output_dir_args(value: str | None) -> tuple[str, ...]:
    """`--output-dir DIR` as ComfyUI's flag, the path made absolute (relative: to the caller's
    working folder); the folder itself is created by the launch."""
    if not value:
        return ()
    return (FLAG, str(Path(value).expanduser().resolve()))


def _named(argv: Sequence[str]) -> str | None:
    found = None
    for i, arg in enumerate(argv):
        if arg == FLAG and i + 1 < len(argv):
            found = argv[i + 1]
        elif arg.startswith(FLAG + "="):
            found = arg.split("=", 1)[1]
    return found  # the last one wins, as in ComfyUI's argparse


def make_output_folder(argv: Sequence[str], cwd: str) -> Path | None:
    """Create the folder `argv`'s `--output-directory` names (relative: to `cwd`, ComfyUI's
    working folder); ValidationError when a file is there. None when no folder is named."""
    value = _named(argv)
    if not value:
        return None
    folder = Path(cwd) / Path(value).expanduser()
    if folder.exists() and not folder.is_dir():
        raise ValidationError(f"--output-directory {value}: not a folder")
    folder.mkdir(parents=True, exist_ok=True)
    return folder

"""The install dialog's last answers, remembered for this box: `metadata/install_choices.json`.

Torch build, Python and torch index as last confirmed; the dialog starts from them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from comfy_tui.errors import MetadataError
from comfy_tui.paths import DataPaths
from comfy_tui.store.jsonfile import read_json, write_json

__all__ = ["InstallChoices", "load_choices", "save_choices"]


@dataclass(frozen=True)
class InstallChoices:
    torch: str = "auto"
    python: str = ""
    torch_index: str = ""


def _file(paths: DataPaths) -> Path:
    return paths.metadata_dir() / "install_choices.json"


def load_choices(paths: DataPaths) -> InstallChoices | None:
    """The remembered answers, or None when there are none (or they are unreadable)."""
    try:
        data = read_json(_file(paths), default={})
    except (OSError, ValueError, MetadataError):
        return None
    if not data:
        return None
    return InstallChoices(
        torch=str(data.get("torch") or "auto"),
        python=str(data.get("python") or ""),
        torch_index=str(data.get("torch_index") or ""),
    )


def save_choices(paths: DataPaths, choices: InstallChoices) -> None:
    write_json(
        _file(paths),
        {"torch": choices.torch, "python": choices.python, "torch_index": choices.torch_index},
    )

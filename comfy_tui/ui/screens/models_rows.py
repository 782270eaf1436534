"""The Models screen's table rows: the columns that fit a width, and one model's cells."""

from __future__ import annotations

from comfy_tui.core.units import format_bytes
from comfy_tui.store.models_index import ModelRecord
from comfy_tui.ui.widgets.model_detail import what_label
from comfy_tui.ui.widgets.model_table import GAP

FOLDER_PANE = 22
"""Width of the folder column (styles/models.tcss says the same)."""


def column_widths(width: int) -> dict[str, tuple[str, int]]:
    """Table columns for `width` cells: the Folder column only where there is room."""
    arch = 20 if width >= 70 else 16
    fixed = 9 + arch + 3 + GAP * 3 + 2 + 2  # size, architecture, sha, gaps, padding, scrollbar
    columns = {"name": ("Name", 0), "folder": ("Folder", 16)}
    name = width - fixed - GAP
    if name - 16 - GAP >= 24:
        name -= 16 + GAP
    else:
        del columns["folder"]
    columns["name"] = ("Name", max(name, 12))
    columns |= {"size": ("Size", 9), "arch": ("Architecture", arch), "sha": ("sha", 3)}
    return columns


def display_name(m: ModelRecord) -> str:
    """The path inside its folder; `.safetensors`, the usual case, is left out (details say)."""
    name = m.relpath.split("/", 1)[1] if "/" in m.relpath else m.relpath
    return name.removesuffix(".safetensors")


def cell(m: ModelRecord) -> dict[str, str]:
    """The table cells of one model."""
    return {
        "name": display_name(m),
        "folder": m.folder,
        "size": format_bytes(m.size),
        "arch": what_label(m),
        "sha": "✓" if m.sha256 else "·",
    }

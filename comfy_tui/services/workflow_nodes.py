"""Which node classes of a workflow an installed version lacks, and who provides them.

What a version provides is read from its checkout, never imported: ComfyUI's ``nodes.py``,
``comfy_extras/`` and ``comfy_api_nodes/``, and every custom node enabled in it
(``custom_nodes/<name>``, links followed). A class nobody registers is missing; the node map
(`node_map.load_node_map`) says which repository has it.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from comfy_tui.core.node_classes import missing_classes, registered_classes
from comfy_tui.core.workflow import Workflow

_CORE = ("nodes.py", "comfy_extras", "comfy_api_nodes")
_MAX_FILE = 4 * 1024 * 1024
_MAX_DEPTH = 4


@dataclass(frozen=True)
class MissingNode:
    class_type: str
    repo: str | None


def _python_files(top: Path, depth: int = 0) -> list[Path]:
    if top.is_file():
        return [top] if top.suffix == ".py" else []
    if depth > _MAX_DEPTH or not top.is_dir():
        return []
    out: list[Path] = []
    try:
        entries = sorted(os.scandir(top), key=lambda e: e.name)
    except OSError:
        return out
    for entry in entries:
        if entry.name.startswith((".", "__pycache__")) or entry.name.endswith(".disabled"):
            continue
        out.extend(_python_files(Path(entry.path), depth + 1))
    return out


def provided_classes(version_dir: Path) -> set[str]:
    """Every node class the version's core and its enabled custom nodes register (blocking)."""
    files = [f for name in _CORE for f in _python_files(version_dir / name)]
    files += _python_files(version_dir / "custom_nodes")
    found: set[str] = set()
    for path in files:
        try:
            if path.stat().st_size > _MAX_FILE:
                continue
            found |= registered_classes(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
    return found


async def missing_nodes(
    flow: Workflow, version_dir: Path, node_map: dict[str, str]
) -> list[MissingNode]:
    provided = await asyncio.to_thread(provided_classes, version_dir)
    return [MissingNode(c, node_map.get(c)) for c in missing_classes(flow.node_classes(), provided)]

"""A version's `custom_nodes/`: links to shared checkouts, and the nodes a version has on its own.

Enabling a shared node puts a relative symlink `versions/<tag>/custom_nodes/<name>` →
`../../../nodes/<name>` there (relative, so the data dir can move); disabling removes the link.
Everything else in `custom_nodes/` that ComfyUI would load (a folder, or a single `.py` file)
is the version's own node and is only listed, never touched; a name ending in ``.disabled`` is
listed as disabled, as ComfyUI skips it. Synchronous file work: call through a thread.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from comfy_tui.errors import InstallError

__all__ = [
    "OwnNode",
    "VersionNodes",
    "custom_nodes_dir",
    "is_link_to",
    "make_link",
    "read_version_nodes",
    "remove_link",
]


@dataclass(frozen=True)
class OwnNode:
    """A node a version has in its own `custom_nodes/` (not a link to a shared checkout)."""

    tag: str
    name: str
    kind: str  # "git" (a checkout), "folder" or "file" (one .py)
    enabled: bool = True


@dataclass(frozen=True)
class VersionNodes:
    tag: str
    shared: tuple[str, ...]  # names of enabled shared nodes
    own: tuple[OwnNode, ...]


def custom_nodes_dir(version_path: Path) -> Path:
    return version_path / "custom_nodes"


def is_link_to(entry: Path, nodes_dir: Path) -> bool:
    """True when `entry` is a symlink whose target is `nodes_dir/<entry.name>`."""
    if not entry.is_symlink():
        return False
    target = Path(os.path.normpath(entry.parent / os.readlink(entry)))
    return target == Path(os.path.normpath(nodes_dir / entry.name))


def read_version_nodes(tag: str, version_path: Path, nodes_dir: Path) -> VersionNodes:
    folder = custom_nodes_dir(version_path)
    shared: list[str] = []
    own: list[OwnNode] = []
    if folder.is_dir():
        for entry in sorted(folder.iterdir(), key=lambda p: p.name.lower()):
            name = entry.name
            if name.startswith(".") or name == "__pycache__":
                continue
            if is_link_to(entry, nodes_dir):
                shared.append(name)
                continue
            enabled = not name.endswith(".disabled")
            if entry.is_dir():
                kind = "git" if (entry / ".git").exists() else "folder"
            elif name.endswith((".py", ".py.disabled")):
                kind = "file"
            else:
                continue  # README, example files: ComfyUI ignores them too
            own.append(OwnNode(tag, name, kind, enabled))
    return VersionNodes(tag, tuple(shared), tuple(own))


def make_link(version_path: Path, name: str, nodes_dir: Path) -> bool:
    """Link the shared checkout into the version; False when the link was there already."""
    folder = custom_nodes_dir(version_path)
    folder.mkdir(exist_ok=True)
    entry = folder / name
    if is_link_to(entry, nodes_dir):
        return False
    if entry.is_symlink() or entry.exists():
        raise InstallError(
            f"{entry} already exists and is not comfy-tui's link: the version has its own "
            f"'{name}'; rename or remove it first"
        )
    tmp = folder / f".{name}.link-tmp"
    tmp.unlink(missing_ok=True)
    os.symlink(os.path.relpath(nodes_dir / name, folder), tmp)
    os.replace(tmp, entry)
    return True


def remove_link(version_path: Path, name: str, nodes_dir: Path) -> bool:
    """Remove the version's link to the shared node; False when there was none."""
    entry = custom_nodes_dir(version_path) / name
    if not is_link_to(entry, nodes_dir):
        return False
    entry.unlink()
    return True

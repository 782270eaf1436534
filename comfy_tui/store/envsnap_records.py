"""Environment snapshots: `metadata/snapshots/<tag>/<id>.json`, one file per snapshot.

A snapshot records what a version is made of at one moment: its ComfyUI commit, every custom
node it loads (shared ones through a link, its own ones in place) with their commits, and the
venv's exact package list (`uv pip freeze`). The id is the UTC time it was taken,
``YYYYMMDD-HHMMSS`` (a ``-2``, ``-3`` ... suffix when two fall in the same second).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from comfy_tui.errors import MetadataError, ValidationError
from comfy_tui.paths import DataPaths
from comfy_tui.store.jsonfile import backup_path, lock_path, read_json, write_json

SCHEMA = 1
_ID = re.compile(r"[0-9]{8}-[0-9]{6}(?:-[0-9]{1,4})?", re.ASCII)
_ID_PREFIX = re.compile(r"[0-9][0-9-]{0,19}", re.ASCII)


@dataclass(frozen=True)
class NodeState:
    """One custom node of a version: `kind` "shared" (a link to nodes/<name>) or "own"."""

    name: str
    kind: str
    commit: str = ""  # "" when it is not a git checkout
    url: str = ""


@dataclass(frozen=True)
class Snapshot:
    id: str
    tag: str
    created_at: float  # unix time
    reason: str
    comfyui_commit: str
    nodes: tuple[NodeState, ...]
    packages: tuple[str, ...]  # `uv pip freeze` lines

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["nodes"] = [asdict(n) for n in self.nodes]
        data["packages"] = list(self.packages)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], source: Path) -> Snapshot:
        try:
            nodes = tuple(NodeState(**n) for n in data.get("nodes", ()))
            return cls(**{**data, "nodes": nodes, "packages": tuple(data.get("packages", ()))})
        except TypeError as exc:
            raise MetadataError(f"snapshot {source} has unexpected fields ({exc})") from exc

    def shared(self) -> dict[str, NodeState]:
        return {n.name: n for n in self.nodes if n.kind == "shared"}


def validate_snapshot_id(value: str) -> str:
    """A full id or the start of one (digits and '-')."""
    if not isinstance(value, str) or not _ID_PREFIX.fullmatch(value):
        raise ValidationError(
            f"invalid snapshot id {str(value)[:40]!r}: expected YYYYMMDD-HHMMSS "
            "(or its start), as `comfy-tui snapshot list TAG` shows"
        )
    return value


def new_id(paths: DataPaths, tag: str, when: float) -> str:
    """A fresh id for a snapshot of `tag` taken at `when` (unix time)."""
    base = datetime.fromtimestamp(when, tz=UTC).strftime("%Y%m%d-%H%M%S")
    folder = paths.snapshots_dir(tag)
    candidate, n = base, 1
    while (folder / f"{candidate}.json").exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def save_snapshot(paths: DataPaths, snapshot: Snapshot) -> None:
    write_json(paths.snapshot_file(snapshot.tag, snapshot.id), snapshot.to_json(), schema=SCHEMA)


def list_snapshots(paths: DataPaths, tag: str) -> list[Snapshot]:
    """Every snapshot of `tag`, newest first."""
    found = []
    for path in paths.snapshots_dir(tag).glob("*.json"):
        if _ID.fullmatch(path.stem):
            found.append(Snapshot.from_json(read_json(path, schema=SCHEMA), path))
    return sorted(found, key=lambda s: (s.created_at, s.id), reverse=True)


def prune_snapshots(paths: DataPaths, tag: str, keep: int) -> list[str]:
    """Delete the oldest snapshots of `tag` beyond the newest `keep`; their ids (blocking)."""
    dropped = []
    for old in list_snapshots(paths, tag)[max(keep, 1) :]:
        path = paths.snapshot_file(tag, old.id)
        for file in (path, backup_path(path), lock_path(path)):
            file.unlink(missing_ok=True)
        dropped.append(old.id)
    return dropped

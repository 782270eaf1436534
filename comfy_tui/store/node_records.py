"""Shared custom node records: `metadata/nodes/<name>.json`, written last when a clone succeeds.

A shared node exists only if its record does: the clone builds in `nodes/.partial-<name>-*`,
is renamed to `nodes/<name>/`, and then the record is written, atomically. The record keeps
what git alone would not tell: the URL the user gave (the clone may come from a mirror) and
the branch that `update` fast-forwards.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from comfy_tui.errors import MetadataError
from comfy_tui.paths import DataPaths
from comfy_tui.store.jsonfile import backup_path, read_json, write_json

SCHEMA = 1


@dataclass(frozen=True)
class NodeRecord:
    """One shared node checkout."""

    name: str
    url: str  # the https URL the user gave
    source: str = ""  # where it was cloned from (the URL, or its mirror)
    branch: str = ""  # the branch `update` follows ("" = the remote's default HEAD)
    added_at: float = 0.0  # unix time

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any], source: Path) -> NodeRecord:
        try:
            return cls(**data)
        except TypeError as exc:
            raise MetadataError(f"node record {source} has unexpected fields ({exc})") from exc


def save_node(paths: DataPaths, record: NodeRecord) -> None:
    write_json(paths.node_record(record.name), record.to_json(), schema=SCHEMA)


def load_node(paths: DataPaths, name: str) -> NodeRecord | None:
    path = paths.node_record(name)
    if not path.exists() and not backup_path(path).exists():
        return None
    return NodeRecord.from_json(read_json(path, schema=SCHEMA), path)


def list_nodes(paths: DataPaths) -> list[NodeRecord]:
    """Every shared node, by name."""
    records = []
    for path in sorted(paths.node_records_dir().glob("*.json"), key=lambda p: p.name.lower()):
        records.append(NodeRecord.from_json(read_json(path, schema=SCHEMA), path))
    return records


def delete_node(paths: DataPaths, name: str) -> None:
    """Forget a node (the record goes first, then the caller removes the checkout)."""
    path = paths.node_record(name)
    for p in (path, backup_path(path)):
        p.unlink(missing_ok=True)

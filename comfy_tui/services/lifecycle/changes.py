"""The last lifecycle change of each version, what `rollback NAME` undoes.

`metadata/lifecycle/<name>.json` (atomic, locked) holds one change:

- ``update``: NAME was moved to another commit; `previous` is its record before, and the old
  checkout + environment wait in `versions/.rollback-<name>/` (the rollback point);
- ``switch``: running instances of NAME were moved to `to` (`instances`: their ids) and the
  default was `default_before`.

A newer change of NAME replaces the older one. Rollback points older than `trash_keep_days`
are deleted (`prune`), like the trash. Blocking: call through a thread.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from comfy_tui.core.retention import DAY_S
from comfy_tui.paths import DataPaths
from comfy_tui.services import staging
from comfy_tui.store import version_records
from comfy_tui.store.jsonfile import read_json, write_json
from comfy_tui.store.version_records import VersionRecord

__all__ = ["Change", "load_change", "prune", "record_update", "rollback_dir", "save_change"]

SCHEMA = 1


@dataclass(frozen=True)
class Change:
    kind: Literal["update", "switch"]
    name: str
    at: float
    previous: dict[str, Any] = field(default_factory=dict)  # update: the record before
    current_commit: str = ""  # update: the commit NAME is on after it
    to: str = ""  # switch: where the instances went
    instances: tuple[str, ...] = ()  # switch: the ids moved
    default_before: str | None = None  # switch: the default before

    def previous_record(self, source: Path) -> VersionRecord:
        return VersionRecord.from_json(dict(self.previous), source)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "at": self.at,
            "previous": self.previous,
            "current_commit": self.current_commit,
            "to": self.to,
            "instances": list(self.instances),
            "default_before": self.default_before,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Change:
        return cls(
            kind=data["kind"],
            name=data["name"],
            at=float(data.get("at", 0)),
            previous=dict(data.get("previous") or {}),
            current_commit=data.get("current_commit", ""),
            to=data.get("to", ""),
            instances=tuple(data.get("instances") or ()),
            default_before=data.get("default_before"),
        )


def _file(paths: DataPaths, name: str) -> Path:
    return paths.metadata_dir() / "lifecycle" / f"{name}.json"


def rollback_dir(paths: DataPaths, name: str) -> Path:
    """Where an update keeps NAME's previous checkout + environment."""
    return paths.versions_dir() / f".rollback-{name}"


def load_change(paths: DataPaths, name: str) -> Change | None:
    path = _file(paths, name)
    if not path.exists():
        return None
    data = read_json(path, schema=SCHEMA, default={})
    return Change.from_json(data) if data else None


def save_change(paths: DataPaths, change: Change | None, name: str) -> None:
    """Remember `change` as NAME's last one (None forgets it)."""
    path = _file(paths, name)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if change is None:
        path.unlink(missing_ok=True)
    else:
        write_json(path, change.to_json(), schema=SCHEMA)


def record_update(paths: DataPaths, before: VersionRecord, after: VersionRecord) -> None:
    """BEFORE's name now holds AFTER: remember the change (rollback undoes it), save AFTER."""
    change = Change(
        kind="update",
        name=before.tag,
        at=time.time(),
        previous=before.to_json(),
        current_commit=after.commit,
    )
    save_change(paths, change, before.tag)
    version_records.save_record(paths, after)


def prune(paths: DataPaths, keep_days: int, now: float | None = None) -> list[str]:
    """Delete rollback points older than `keep_days` (0: keep); returns their names."""
    now = time.time() if now is None else now
    gone = []
    for entry in paths.versions_dir().glob(".rollback-*"):
        name = entry.name.removeprefix(".rollback-")
        change = load_change(paths, name)
        at = change.at if change else entry.stat().st_mtime
        if keep_days > 0 and at < now - keep_days * DAY_S:
            staging.remove_tree(entry)
            if change and change.kind == "update":
                save_change(paths, None, name)
            gone.append(name)
    return gone

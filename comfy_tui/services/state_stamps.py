"""Where the state the TUI shares with the CLI lives, and cheap fingerprints of it.

Four areas: instance records, version records (and the default), the model index, node
records. `spots` says which directory entries belong to each area; `stamps` takes one
`scandir` per directory (no file is read) so two equal stamps mean nothing changed there.
`services.state_watch` wakes on inotify and uses the stamps only where inotify is missing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from comfy_tui.paths import DataPaths

__all__ = ["AREAS", "Spot", "Stamp", "areas_of", "changed_areas", "spots", "stamps"]

Stamp = tuple[tuple[str, int, int], ...]
"""(name, mtime_ns, size) of each watched entry, sorted."""

AREAS = ("instances", "versions", "library", "nodes")


@dataclass(frozen=True)
class Spot:
    """Entries of `directory` that belong to `area`: all (``names`` None) or those named."""

    area: str
    directory: Path
    names: frozenset[str] | None = None
    database: bool = False
    """SQLite files: only writes count (readers open them read-write and close them)."""


def spots(paths: DataPaths) -> list[Spot]:
    """What each area covers. Computed once: the `DataPaths` methods create directories."""
    db = paths.library_db()
    return [
        Spot("instances", paths.instances_dir()),
        Spot("versions", paths.version_records_dir()),
        Spot("versions", paths.metadata_dir(), frozenset({"default_version.json"})),
        Spot("library", db.parent, frozenset({db.name, f"{db.name}-wal"}), database=True),
        Spot("nodes", paths.node_records_dir()),
    ]


def ignored(name: str) -> bool:
    """Temporary files of atomic writes (``.name.x.tmp``) and lock files never count."""
    return name.startswith(".") or name.endswith((".lock", ".tmp"))


def areas_of(watch: Iterable[Spot], directory: Path, name: str) -> set[str]:
    """The areas an entry `name` of `directory` belongs to."""
    if ignored(name):
        return set()
    return {
        s.area for s in watch if s.directory == directory and (s.names is None or name in s.names)
    }


def _entries(spot: Spot) -> list[tuple[str, int, int]]:
    found: list[tuple[str, int, int]] = []
    try:
        with os.scandir(spot.directory) as it:
            for entry in it:
                if ignored(entry.name) or (spot.names is not None and entry.name not in spot.names):
                    continue
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if spot.database and st.st_size == 0:
                    continue  # an empty -wal comes and goes with every reader
                found.append((f"{spot.directory.name}/{entry.name}", st.st_mtime_ns, st.st_size))
    except OSError:
        pass
    return found


def stamps(watch: Iterable[Spot]) -> dict[str, Stamp]:
    """The current stamp of every area (blocking: call it in a thread)."""
    by_area: dict[str, list[tuple[str, int, int]]] = {}
    for spot in watch:
        by_area.setdefault(spot.area, []).extend(_entries(spot))
    return {area: tuple(sorted(found)) for area, found in by_area.items()}


def changed_areas(before: Mapping[str, Stamp], after: Mapping[str, Stamp]) -> frozenset[str]:
    """The areas whose stamp differs."""
    return frozenset(a for a in after if before.get(a) != after[a])

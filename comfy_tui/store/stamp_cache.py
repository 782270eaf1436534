"""The rescan's stamp cache: what `stat_rows.load_known` reads for each root, kept in one
`marshal` file beside the index (`library.db.stamps`), so that a rescan of an unchanged
library reads it in a fifth of the time sqlite takes to hand over 10,000s of rows.

The file is labelled with the index's identity and its count of stamp changes (table
`stamp_gen`, kept by triggers on every insert, delete and stamp update, whoever writes:
library_schema.py, migration 5). A label that differs from the index's, a torn or foreign file,
a root it does not hold: the stamps come from sqlite, as without the cache. Derived data only:
losing or damaging the file costs one sqlite read, never a wrong "unchanged".
"""

from __future__ import annotations

import marshal
from pathlib import Path
from typing import TYPE_CHECKING

from comfy_tui.store.atomic import write_bytes_atomic

if TYPE_CHECKING:
    import sqlite3

    from comfy_tui.store.stat_rows import Known

__all__ = ["Label", "cache_path", "read_cache", "read_label", "write_cache"]

Label = tuple[str, int]
"""(the index's identity, its count of stamp changes)."""

_FORMAT = 1


def cache_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".stamps")


def read_label(db: sqlite3.Connection) -> Label:
    """The index's label now; read it before the stamps it will label."""
    row = db.execute("SELECT id, n FROM stamp_gen").fetchone()
    return (str(row[0]), int(row[1]))


def read_cache(path: Path, label: Label) -> dict[str, Known] | None:
    """Every root's stamps, when the file holds them for exactly this label; else None."""
    try:
        data = path.read_bytes()
        found = marshal.loads(data)  # noqa: S302 (our own file, in the user's 0700 data dir)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if not isinstance(found, tuple) or len(found) != 3 or found[:2] != (_FORMAT, label):
        return None
    by_root = found[2]
    return by_root if isinstance(by_root, dict) else None


def write_cache(path: Path, label: Label, by_root: dict[str, Known]) -> None:
    """Replace the file with `by_root`'s stamps, read after `label` was (a change between the
    two leaves the file labelled older than its stamps: stale at the next read, never wrong)."""
    write_bytes_atomic(path, marshal.dumps((_FORMAT, label, by_root)), mode=0o600)

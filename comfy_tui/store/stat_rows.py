"""What a rescan compares with the file system: the stamp columns of a root's index rows, read
(and vanished rows dropped) over a blocking `sqlite3` connection: a scan's thread or the CLI.

Apart from `models_index` (whose `ModelRecord` and JSON are needed only for new and changed
files), so a rescan of an unchanged library loads neither.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite3


__all__ = ["Known", "Stamp", "drop_rows", "load_known", "relpaths_of"]

Stamp = tuple[int, int, int]
"""(size, mtime_ns, ino): what says a file is unchanged since it was indexed."""

Known = dict[str, dict[str, Stamp]]
"""A root's index as a rescan compares it: directory prefix ("" or "loras/sd15/") → file name
→ `Stamp`. Nested, so a walk looks a file up by the name it lists, with no path string made."""


def load_known(db: sqlite3.Connection, root: str) -> Known:
    """The stamp columns of every row of `root`, nested by directory and name (blocking: a
    scan's thread). No row id, which would cost a tenth more to read: the few vanished rows
    are dropped by (root, relpath), their identity."""
    sql = "SELECT relpath, size, mtime_ns, ino FROM models WHERE root = ?"
    cursor = db.execute(sql, (root,))
    cursor.row_factory = None  # tuples, whatever the connection makes
    known: Known = {}
    for relpath, size, mtime_ns, ino in cursor:
        cut = relpath.rfind("/") + 1  # 0 at the top
        prefix = relpath[:cut]
        stamps = known.get(prefix)
        if stamps is None:
            stamps = known[prefix] = {}
        stamps[relpath[cut:]] = (size, mtime_ns, ino)
    return known


def relpaths_of(known: Known) -> list[str]:
    """Every file `known` holds, by relpath."""
    return [prefix + name for prefix, stamps in known.items() for name in stamps]


def drop_rows(db: sqlite3.Connection, root: str, relpaths: Iterable[str]) -> None:
    """Delete the rows of these files of `root` (gone from the disk); the caller commits."""
    sql = "DELETE FROM models WHERE root = ? AND relpath = ?"
    db.executemany(sql, [(root, relpath) for relpath in relpaths])

"""What a rescan compares with the file system: the stat columns of a root's index rows, read
(and vanished rows dropped) over a blocking `sqlite3` connection: a scan's thread or the CLI.

Apart from `models_index` (whose `ModelRecord` and JSON are needed only for new and changed
files), so a rescan of an unchanged library loads neither.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite3

__all__ = ["StatRow", "drop_rows", "load_stat_rows"]

StatRow = tuple[str, int, int, int]
"""(relpath, size, mtime_ns, ino): the few columns a rescan compares with the file system.
A plain tuple, as a rescan reads one per file (10,000s); no row id, which would cost a tenth
more to read: the few vanished rows are dropped by (root, relpath), their identity."""


def load_stat_rows(db: sqlite3.Connection, root: str) -> dict[str, StatRow]:
    """The stat columns of every row of `root`, by relpath (blocking: a scan's thread)."""
    sql = "SELECT relpath, size, mtime_ns, ino FROM models WHERE root = ?"
    cursor = db.execute(sql, (root,))
    cursor.row_factory = None  # tuples, whatever the connection makes
    return {r[0]: r for r in cursor}


def drop_rows(db: sqlite3.Connection, root: str, relpaths: Iterable[str]) -> None:
    """Delete the rows of these files of `root` (gone from the disk); the caller commits."""
    sql = "DELETE FROM models WHERE root = ? AND relpath = ?"
    db.executemany(sql, [(root, relpath) for relpath in relpaths])

"""What a rescan compares with the file system: the stat columns of a root's index rows, read
(and vanished rows dropped) over a blocking `sqlite3` connection: a scan's thread or the CLI.

Apart from `models_index` (whose `ModelRecord` and JSON are needed only for new and changed
files), so a rescan of an unchanged library loads neither; `models_index` re-exports these.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import sqlite3

__all__ = ["DELETE_ID", "StatRow", "drop_ids", "load_stat_rows"]

StatRow = tuple[int, str, int, int, int]
"""(id, relpath, size, mtime_ns, ino): the few columns a rescan compares with the file system.
A plain tuple, as a rescan reads one per file (10,000s): `row[2:]` is (size, mtime_ns, ino)."""

DELETE_ID = "DELETE FROM models WHERE id = ?"


def load_stat_rows(db: sqlite3.Connection, root: str) -> dict[str, StatRow]:
    """The stat columns of every row of `root`, by relpath (blocking: a scan's thread)."""
    sql = "SELECT id, relpath, size, mtime_ns, ino FROM models WHERE root = ?"
    cursor = db.execute(sql, (root,))
    cursor.row_factory = None  # tuples, whatever the connection makes
    return {r[1]: r for r in cursor}


def drop_ids(db: sqlite3.Connection, ids: Sequence[int]) -> None:
    """`models_index.delete_ids` on a blocking connection (a scan); the caller commits."""
    db.executemany(DELETE_ID, [(i,) for i in ids])

"""Rebuilding a damaged library index: the files are the truth, `library.db` is a cache.

The damaged file (with its `-wal` and `-shm`) is set aside as `library.db.damaged` (the last
one only), then a full scan builds a new index. What the scan cannot learn from the files
(sha256 hashes and where downloads came from) is copied from the damaged file when SQLite can
still read those rows, for files whose size and mtime are unchanged; rows it cannot read are
lost: `comfy-tui models hash` recomputes hashes, download sources are not recoverable.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Salvaged", "apply_salvaged", "set_aside"]

DAMAGED_SUFFIX = ".damaged"
_KEPT = ("sha256", "source_url", "source_repo", "source_revision", "source_commit")


@dataclass(frozen=True)
class Salvaged:
    """The facts of one row a rescan cannot find again in the file itself."""

    root: str
    relpath: str
    size: int
    mtime_ns: int
    values: tuple[str | None, ...]  # in the order of _KEPT


def _read_rows(path: Path) -> list[Salvaged]:
    rows: list[Salvaged] = []
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    except sqlite3.Error:
        return rows
    try:
        conn.execute("PRAGMA writable_schema = ON")  # read past a damaged schema entry (read-only)
        have = {str(r[1]) for r in conn.execute("PRAGMA table_info(models)")}
        kept = ", ".join(c if c in have else "NULL" for c in _KEPT)  # an older schema
        sql = f"SELECT root, relpath, size, mtime_ns, {kept} FROM models"  # noqa: S608
        for row in conn.execute(sql):
            if any(v is not None for v in row[4:]):
                rows.append(Salvaged(row[0], row[1], row[2], row[3], tuple(row[4:])))
    except sqlite3.Error:  # keep what was read before the damage
        pass
    finally:
        conn.close()
    return rows


def set_aside(db_path: Path) -> tuple[Path, list[Salvaged]]:
    """Rename the damaged index (and its WAL) aside; what could be read from it. Blocking."""
    damaged = db_path.with_name(db_path.name + DAMAGED_SUFFIX)
    for extra in ("", "-wal", "-shm"):
        source = Path(f"{db_path}{extra}")
        target = Path(f"{damaged}{extra}")
        if source.exists():
            os.replace(source, target)
        else:
            target.unlink(missing_ok=True)
    return damaged, _read_rows(damaged)


def apply_salvaged(db: sqlite3.Connection, rows: Sequence[Salvaged]) -> int:
    """Put salvaged facts on the rows that still describe the same file; the caller commits.
    Blocking (the scan's thread)."""
    sets = ", ".join(f"{c} = COALESCE({c}, ?)" for c in _KEPT)
    sql = f"UPDATE models SET {sets} WHERE root = ? AND relpath = ? AND size = ? AND mtime_ns = ?"  # noqa: S608
    kept = 0
    for row in rows:
        cursor = db.execute(sql, (*row.values, row.root, row.relpath, row.size, row.mtime_ns))
        kept += max(cursor.rowcount, 0)
    return kept

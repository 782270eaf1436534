"""The model library's index: one `ModelRecord` per file, stored in `library.db` (see db.py).

Plain async functions over an open aiosqlite connection, and the few blocking ones a scan
uses over a `sqlite3` connection (`write_models`: the same SQL as its async twin; a rescan's
stat columns are read and dropped in stat_rows.py); the service layer decides what to write.
A row's identity is (root, relpath); `sha256` is valid for the (size, mtime_ns) it was stored
with, and a changed file loses it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # a scan from the CLI opens the file with sqlite3 alone
    import sqlite3

    import aiosqlite

__all__ = [
    "FolderStat",
    "ModelRecord",
    "cached_hash",
    "delete_ids",
    "encode_metadata",
    "folder_stats",
    "get_model",
    "put_cached_hash",
    "select_models",
    "set_hash",
    "update_identity",
    "upsert_models",
    "write_models",
]


@dataclass(frozen=True)
class ModelRecord:
    """What the library knows about one file, without having loaded a weight.

    Fields mirror the table's columns, so a row becomes a record with no per-field work
    (10,000 rows in a few milliseconds); `dtypes` and `metadata` are decoded on first use."""

    root: str  # the library root, absolute
    relpath: str  # POSIX path inside the root, e.g. "loras/style/x.safetensors"
    folder: str  # ComfyUI folder type, e.g. "loras"
    name: str  # file name
    size: int
    mtime_ns: int
    format: str  # "safetensors", "gguf", "pickle", "other"
    status: str  # "ok", "unreadable", "pickle"
    added_at: float
    dev: int = 0
    ino: int = 0
    sha256: str | None = None
    problem: str = ""
    kind: str = ""  # "checkpoint", "lora", "vae", ...
    architecture: str = ""  # "SDXL", "Flux", ...
    parameters: int | None = None
    tensors: int | None = None
    dtypes_csv: str = ""  # "BF16,F32"
    metadata_json: str = "{}"  # the header's metadata, a JSON object
    tags: str = ""
    source_url: str | None = None
    source_repo: str | None = None
    source_revision: str | None = None
    source_commit: str | None = None
    id: int | None = None

    @property
    def path(self) -> Path:
        return Path(self.root, *self.relpath.split("/"))

    @property
    def dtypes(self) -> tuple[str, ...]:
        return tuple(d for d in self.dtypes_csv.split(",") if d)

    @functools.cached_property
    def metadata(self) -> dict[str, Any]:
        try:
            value = json.loads(self.metadata_json or "{}")
        except json.JSONDecodeError:
            return {}
        return value if isinstance(value, dict) else {}

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> ModelRecord:
        """From a row selected as `_SELECT` (the fields in order)."""
        return cls(*row)


def encode_metadata(metadata: dict[str, Any]) -> str:
    return json.dumps(metadata, sort_keys=True, ensure_ascii=False, default=str)


_FIELDS = tuple(f.name for f in fields(ModelRecord))
_COLUMN_OF = {"dtypes_csv": "dtypes", "metadata_json": "metadata"}
_SELECT = ", ".join(_COLUMN_OF.get(f, f) for f in _FIELDS)
_COLUMNS = tuple(_COLUMN_OF.get(f, f) for f in _FIELDS if f != "id")
_UPDATED_ON_CONFLICT = [c for c in _COLUMNS if c not in ("root", "relpath", "added_at")]


def _values(record: ModelRecord) -> tuple[Any, ...]:
    return tuple(getattr(record, f) for f in _FIELDS if f != "id")


_SAME_FILE = "excluded.size = size AND excluded.mtime_ns = mtime_ns AND excluded.ino = ino"


def _update_clause(column: str) -> str:
    """How an upsert treats a column: sources are kept when not given again, and a known hash
    is kept while the row still describes the same file (a scan racing an import)."""
    if column.startswith("source_"):
        return f"{column} = COALESCE(excluded.{column}, {column})"
    if column == "sha256":
        keep = "COALESCE(excluded.sha256, sha256)"
        return f"sha256 = CASE WHEN {_SAME_FILE} THEN {keep} ELSE excluded.sha256 END"
    return f"{column} = excluded.{column}"


_UPSERT = (  # column names are constants of this module, values are bound
    f"INSERT INTO models ({', '.join(_COLUMNS)}) "  # noqa: S608
    f"VALUES ({', '.join('?' for _ in _COLUMNS)}) "
    f"ON CONFLICT (root, relpath) DO UPDATE SET "
    f"{', '.join(_update_clause(c) for c in _UPDATED_ON_CONFLICT)}"
)
_DELETE_ID = "DELETE FROM models WHERE id = ?"


async def upsert_models(db: aiosqlite.Connection, records: Iterable[ModelRecord]) -> None:
    """Insert or refresh rows by (root, relpath); the caller commits."""
    await db.executemany(_UPSERT, [_values(r) for r in records])


def write_models(db: sqlite3.Connection, records: Iterable[ModelRecord]) -> None:
    """`upsert_models` on a blocking connection (a scan); the caller commits."""
    db.executemany(_UPSERT, [_values(r) for r in records])


async def delete_ids(db: aiosqlite.Connection, ids: Sequence[int]) -> None:
    await db.executemany(_DELETE_ID, [(i,) for i in ids])


async def select_models(
    db: aiosqlite.Connection,
    *,
    match: str | None = None,
    folder: str | None = None,
    where: str = "",
    params: Sequence[Any] = (),
    limit: int | None = None,
) -> list[ModelRecord]:
    """Rows in (folder, name) order; `match` is an FTS5 expression (see services search)."""
    clauses: list[str] = []
    args: list[Any] = []
    if match:
        clauses.append("id IN (SELECT rowid FROM models_fts WHERE models_fts MATCH ?)")
        args.append(match)
    if folder:
        clauses.append("folder = ?")
        args.append(folder)
    if where:
        clauses.append(f"({where})")
        args.extend(params)
    sql = f"SELECT {_SELECT} FROM models"  # noqa: S608 - constant column names
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += " ORDER BY folder, relpath, root"
    if limit is not None:
        sql += " LIMIT ?"
        args.append(limit)
    async with db.execute(sql, args) as cursor:
        rows = await cursor.fetchall()
    return [ModelRecord.from_row(r) for r in rows]


async def get_model(db: aiosqlite.Connection, model_id: int) -> ModelRecord | None:
    found = await select_models(db, where="id = ?", params=(model_id,))
    return found[0] if found else None


async def set_hash(
    db: aiosqlite.Connection, model_id: int, sha256: str, size: int, mtime_ns: int
) -> bool:
    """Store a hash only if the row still describes the file that was hashed."""
    cursor = await db.execute(
        "UPDATE models SET sha256 = ? WHERE id = ? AND size = ? AND mtime_ns = ?",
        (sha256, model_id, size, mtime_ns),
    )
    return cursor.rowcount == 1


async def update_identity(
    db: aiosqlite.Connection, model_id: int, dev: int, ino: int, mtime_ns: int
) -> None:
    """After a file was replaced by a hard link to identical content."""
    await db.execute(
        "UPDATE models SET dev = ?, ino = ?, mtime_ns = ? WHERE id = ?",
        (dev, ino, mtime_ns, model_id),
    )


@dataclass(frozen=True)
class FolderStat:
    folder: str
    count: int
    size: int


async def folder_stats(db: aiosqlite.Connection) -> list[FolderStat]:
    sql = "SELECT folder, COUNT(*), COALESCE(SUM(size), 0) FROM models GROUP BY folder"
    async with db.execute(sql + " ORDER BY folder") as cursor:
        rows = await cursor.fetchall()
    return [FolderStat(r[0], r[1], r[2]) for r in rows]


async def cached_hash(
    db: aiosqlite.Connection, dev: int, ino: int, size: int, mtime_ns: int
) -> str | None:
    sql = "SELECT sha256 FROM hash_cache WHERE dev = ? AND ino = ? AND size = ? AND mtime_ns = ?"
    async with db.execute(sql, (dev, ino, size, mtime_ns)) as cursor:
        row = await cursor.fetchone()
    return str(row[0]) if row else None


async def put_cached_hash(
    db: aiosqlite.Connection, dev: int, ino: int, size: int, mtime_ns: int, sha256: str
) -> None:
    await db.execute(
        "INSERT OR REPLACE INTO hash_cache (dev, ino, size, mtime_ns, sha256) "
        "VALUES (?, ?, ?, ?, ?)",
        (dev, ino, size, mtime_ns, sha256),
    )

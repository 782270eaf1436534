"""SQLite through aiosqlite: WAL, a busy timeout, and migrations by `PRAGMA user_version`.

Every statement runs on aiosqlite's own thread, never on the event loop's. A database is
described by its ordered list of migrations: migration *i* (1-based) moves `user_version`
from *i - 1* to *i*, inside one transaction, so a crash mid-migration leaves the old schema.
A file whose `user_version` is newer than this build knows is refused, not guessed at.
A damaged file (SQLite says corrupt or "not a database", on opening or on any later statement)
raises `DamagedIndexError`, one line that says how to rebuild it, never a traceback.

`LIBRARY_MIGRATIONS` is the model library's schema (models table + FTS5 index).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import aiosqlite

from comfy_tui.errors import DamagedIndexError, MetadataError

__all__ = ["LIBRARY_MIGRATIONS", "connect", "is_damage", "migrate", "split_statements"]

BUSY_TIMEOUT_MS = 10_000

LIBRARY_MIGRATIONS: tuple[str, ...] = (
    # 1: the models table, its indexes, and an external-content FTS5 index kept by triggers.
    """
    CREATE TABLE models (
        id          INTEGER PRIMARY KEY,
        root        TEXT    NOT NULL,
        relpath     TEXT    NOT NULL,
        folder      TEXT    NOT NULL,
        name        TEXT    NOT NULL,
        size        INTEGER NOT NULL,
        mtime_ns    INTEGER NOT NULL,
        dev         INTEGER NOT NULL DEFAULT 0,
        ino         INTEGER NOT NULL DEFAULT 0,
        sha256      TEXT,
        format      TEXT    NOT NULL,
        status      TEXT    NOT NULL,
        problem     TEXT    NOT NULL DEFAULT '',
        kind        TEXT    NOT NULL DEFAULT '',
        architecture TEXT   NOT NULL DEFAULT '',
        parameters  INTEGER,
        tensors     INTEGER,
        dtypes      TEXT    NOT NULL DEFAULT '',
        metadata    TEXT    NOT NULL DEFAULT '{}',
        tags        TEXT    NOT NULL DEFAULT '',
        source_url  TEXT,
        source_repo TEXT,
        source_revision TEXT,
        added_at    REAL    NOT NULL,
        UNIQUE (root, relpath)
    );
    CREATE INDEX models_sha256 ON models (sha256);
    CREATE INDEX models_folder ON models (folder, name);
    CREATE INDEX models_size ON models (size);
    CREATE VIRTUAL TABLE models_fts USING fts5 (
        name, folder, architecture, tags,
        content = 'models', content_rowid = 'id',
        tokenize = "unicode61 remove_diacritics 2"
    );
    CREATE TRIGGER models_ai AFTER INSERT ON models BEGIN
        INSERT INTO models_fts (rowid, name, folder, architecture, tags)
        VALUES (new.id, new.name, new.folder, new.architecture, new.tags);
    END;
    CREATE TRIGGER models_ad AFTER DELETE ON models BEGIN
        INSERT INTO models_fts (models_fts, rowid, name, folder, architecture, tags)
        VALUES ('delete', old.id, old.name, old.folder, old.architecture, old.tags);
    END;
    CREATE TRIGGER models_au AFTER UPDATE OF name, folder, architecture, tags ON models
    BEGIN
        INSERT INTO models_fts (models_fts, rowid, name, folder, architecture, tags)
        VALUES ('delete', old.id, old.name, old.folder, old.architecture, old.tags);
        INSERT INTO models_fts (rowid, name, folder, architecture, tags)
        VALUES (new.id, new.name, new.folder, new.architecture, new.tags);
    END;
    """,
    # 2: hashes of files outside the index (versions' own models/), keyed by identity.
    """
    CREATE TABLE hash_cache (
        dev      INTEGER NOT NULL,
        ino      INTEGER NOT NULL,
        size     INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        sha256   TEXT    NOT NULL,
        PRIMARY KEY (dev, ino)
    );
    """,
    # 3: the commit a download's revision pointed at (Hugging Face), beside its revision.
    """
    ALTER TABLE models ADD COLUMN source_commit TEXT;
    """,
    # 4: what CivitAI says about a file, by its sha256 (also "not found"), and an FTS5 index
    # over its words so that search finds a model by its CivitAI name or trigger words.
    """
    CREATE TABLE civitai (
        sha256        TEXT    PRIMARY KEY,
        found         INTEGER NOT NULL,
        looked_up_at  REAL    NOT NULL,
        model_id      INTEGER,
        version_id    INTEGER,
        model_name    TEXT    NOT NULL DEFAULT '',
        version_name  TEXT    NOT NULL DEFAULT '',
        model_type    TEXT    NOT NULL DEFAULT '',
        base_model    TEXT    NOT NULL DEFAULT '',
        trained_words TEXT    NOT NULL DEFAULT '[]'
    );
    CREATE VIRTUAL TABLE civitai_fts USING fts5 (
        model_name, version_name, base_model, trained_words,
        content = 'civitai', content_rowid = 'rowid',
        tokenize = "unicode61 remove_diacritics 2"
    );
    CREATE TRIGGER civitai_ai AFTER INSERT ON civitai BEGIN
        INSERT INTO civitai_fts (rowid, model_name, version_name, base_model, trained_words)
        VALUES (new.rowid, new.model_name, new.version_name, new.base_model, new.trained_words);
    END;
    CREATE TRIGGER civitai_ad AFTER DELETE ON civitai BEGIN
        INSERT INTO civitai_fts (civitai_fts, rowid, model_name, version_name, base_model,
                                 trained_words)
        VALUES ('delete', old.rowid, old.model_name, old.version_name, old.base_model,
                old.trained_words);
    END;
    CREATE TRIGGER civitai_au AFTER UPDATE ON civitai BEGIN
        INSERT INTO civitai_fts (civitai_fts, rowid, model_name, version_name, base_model,
                                 trained_words)
        VALUES ('delete', old.rowid, old.model_name, old.version_name, old.base_model,
                old.trained_words);
        INSERT INTO civitai_fts (rowid, model_name, version_name, base_model, trained_words)
        VALUES (new.rowid, new.model_name, new.version_name, new.base_model, new.trained_words);
    END;
    """,
)


def split_statements(script: str) -> list[str]:
    """Cut a script into complete SQL statements (a trigger's inner `;` does not cut it)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip():
        raise ValueError(f"incomplete SQL statement: {buffer.strip()[:60]!r}")
    return statements


async def _user_version(db: aiosqlite.Connection) -> int:
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def migrate(db: aiosqlite.Connection, migrations: Sequence[str], path: Path) -> int:
    """Bring the schema to `len(migrations)`; return the version it was at before.

    Each step runs in one `BEGIN IMMEDIATE` transaction that first re-reads the version, so
    two processes opening a new file at once migrate it once.
    """
    before = await _user_version(db)
    if before > len(migrations):
        raise MetadataError(
            f"database {path} was written by a newer comfy-tui "
            f"(schema {before}, this build knows up to {len(migrations)})"
        )
    for number in range(before + 1, len(migrations) + 1):
        await db.execute("BEGIN IMMEDIATE")
        try:
            if await _user_version(db) < number:
                for statement in split_statements(migrations[number - 1]):
                    await db.execute(statement)
                await db.execute(f"PRAGMA user_version = {number}")
            await db.commit()
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                await db.rollback()
            raise
    return before


async def _use_wal(db: aiosqlite.Connection) -> None:
    """Switch a new file to WAL (it stays WAL). Two first openers can collide on the switch,
    which SQLite reports as busy without waiting, so it is retried for a while."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            async with db.execute("PRAGMA journal_mode") as cursor:
                row = await cursor.fetchone()
            if row and str(row[0]).lower() == "wal":
                return
            await db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or loop.time() > deadline:
                raise
            await asyncio.sleep(0.02)


_DAMAGE_CODES = frozenset({"SQLITE_CORRUPT", "SQLITE_NOTADB"})
REBUILD_HINT = "rebuild it from the library's files with 'comfy-tui models scan'"


def is_damage(exc: BaseException) -> bool:
    """True when SQLite reports a damaged file (not a busy or locked one)."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    name = str(getattr(exc, "sqlite_errorname", ""))
    return name in _DAMAGE_CODES or name.startswith("SQLITE_CORRUPT_")


def _damaged(path: Path, exc: BaseException) -> DamagedIndexError:
    return DamagedIndexError(f"the model index {path} is damaged ({exc}): {REBUILD_HINT}")


async def _thread_ended(db: aiosqlite.Connection) -> None:
    """Wait until aiosqlite's worker thread has ended. It reports to this loop as it ends, so
    a loop closed before that (a cancelled job at exit) makes it fail in its thread."""
    thread = getattr(db, "_thread", None)  # aiosqlite's own; no public way to wait for it
    if thread is not None and thread.is_alive():
        await asyncio.to_thread(thread.join, 10.0)


@contextlib.asynccontextmanager
async def connect(
    path: Path, migrations: Sequence[str] = LIBRARY_MIGRATIONS
) -> AsyncIterator[aiosqlite.Connection]:
    """Open `path` (created if missing, mode 0600) in WAL mode, migrated, rows as `sqlite3.Row`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.touch(mode=0o600)
    opening = aiosqlite.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
    try:
        db = await opening
    except sqlite3.Error as exc:
        raise MetadataError(f"database {path} cannot be opened ({exc})") from exc
    except BaseException:
        await _thread_ended(opening)
        raise
    try:
        db.row_factory = sqlite3.Row
        try:
            await db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            await _use_wal(db)
            await db.execute("PRAGMA synchronous = NORMAL")
            await migrate(db, migrations, path)
        except sqlite3.DatabaseError as exc:
            if is_damage(exc):
                raise _damaged(path, exc) from exc
            raise MetadataError(f"database {path} is unusable ({exc})") from exc
        try:
            yield db
        except sqlite3.DatabaseError as exc:
            if is_damage(exc):
                raise _damaged(path, exc) from exc
            raise
    finally:
        closing = asyncio.ensure_future(db.close())
        try:
            await asyncio.shield(closing)
        except asyncio.CancelledError:
            await asyncio.wait({closing})  # a second cancel does not leave it half closed
            raise
        await _thread_ended(db)

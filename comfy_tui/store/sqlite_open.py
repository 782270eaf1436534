"""Open a SQLite database (stdlib `sqlite3`, blocking): WAL, a busy timeout, migrations by
`PRAGMA user_version`, damage reported as one line.

The one way a comfy-tui database is opened: `db.connect` runs `open_db` on aiosqlite's thread
for async callers, and the CLI's scan calls it directly (no event loop, no aiosqlite).

A database is described by its ordered list of migrations: migration *i* (1-based) moves
`user_version` from *i - 1* to *i*, inside one transaction, so a crash mid-migration leaves the
old schema. A file whose `user_version` is newer than this build knows is refused, not guessed
at. A damaged file (SQLite says corrupt or "not a database", on opening or on any later
statement) raises `DamagedIndexError`, one line that says how to rebuild it, never a traceback.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from comfy_tui.errors import DamagedIndexError, MetadataError

__all__ = [
    "BUSY_TIMEOUT_MS",
    "REBUILD_HINT",
    "damage_reported",
    "damaged",
    "is_damage",
    "migrate",
    "open_db",
    "opened",
    "split_statements",
]

BUSY_TIMEOUT_MS = 10_000
REBUILD_HINT = "rebuild it from the library's files with 'comfy-tui models scan'"
_DAMAGE_CODES = frozenset({"SQLITE_CORRUPT", "SQLITE_NOTADB"})


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


def _user_version(db: sqlite3.Connection) -> int:
    row = db.execute("PRAGMA user_version").fetchone()
    return int(row[0]) if row else 0


def migrate(db: sqlite3.Connection, migrations: Sequence[str], path: Path) -> int:
    """Bring the schema to `len(migrations)`; return the version it was at before.

    Each step runs in one `BEGIN IMMEDIATE` transaction that first re-reads the version, so
    two processes opening a new file at once migrate it once.
    """
    before = _user_version(db)
    if before > len(migrations):
        raise MetadataError(
            f"database {path} was written by a newer comfy-tui "
            f"(schema {before}, this build knows up to {len(migrations)})"
        )
    for number in range(before + 1, len(migrations) + 1):
        db.execute("BEGIN IMMEDIATE")
        try:
            if _user_version(db) < number:
                for statement in split_statements(migrations[number - 1]):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")
            db.commit()
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.rollback()
            raise
    return before


def _use_wal(db: sqlite3.Connection) -> None:
    """Switch a new file to WAL (it stays WAL). Two first openers can collide on the switch,
    which SQLite reports as busy without waiting, so it is retried for a while."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            row = db.execute("PRAGMA journal_mode").fetchone()
            if row and str(row[0]).lower() == "wal":
                return
            db.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def is_damage(exc: BaseException) -> bool:
    """True when SQLite reports a damaged file (not a busy or locked one)."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    name = str(getattr(exc, "sqlite_errorname", ""))
    return name in _DAMAGE_CODES or name.startswith("SQLITE_CORRUPT_")


def damaged(path: Path, exc: BaseException) -> DamagedIndexError:
    """The error for damage found in `path`. Its stamp cache is dropped on the way: a rescan
    that trusted it would not read the damaged rows, and so never rebuild what the message
    asks the scan to rebuild."""
    from comfy_tui.store.stamp_cache import cache_path

    with contextlib.suppress(OSError):
        cache_path(path).unlink(missing_ok=True)
    return DamagedIndexError(f"the model index {path} is damaged ({exc}): {REBUILD_HINT}")


def open_db(path: Path, migrations: Sequence[str]) -> sqlite3.Connection:
    """Open `path` (created if missing, mode 0600) in WAL mode, migrated. Blocking.

    Rows are plain tuples; a caller that wants `sqlite3.Row` sets `row_factory`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.touch(mode=0o600)
    try:
        db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as exc:
        raise MetadataError(f"database {path} cannot be opened ({exc})") from exc
    try:
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _use_wal(db)
        db.execute("PRAGMA synchronous = NORMAL")
        migrate(db, migrations, path)
    except sqlite3.DatabaseError as exc:
        db.close()
        if is_damage(exc):
            raise damaged(path, exc) from exc
        raise MetadataError(f"database {path} is unusable ({exc})") from exc
    except BaseException:
        db.close()
        raise
    return db


@contextlib.contextmanager
def opened(path: Path, migrations: Sequence[str]) -> Iterator[sqlite3.Connection]:
    """`open_db` for a `with` block: closed at its end; damage found inside is reported as on
    opening."""
    db = open_db(path, migrations)
    try:
        with damage_reported(path):
            yield db
    finally:
        db.close()


@contextlib.contextmanager
def damage_reported(path: Path) -> Iterator[None]:
    """Damage to the file at `path` found inside the block is raised as `DamagedIndexError`
    (the way `open_db` reports it); any other database error goes on unchanged."""
    try:
        yield
    except sqlite3.DatabaseError as exc:
        if is_damage(exc):
            raise damaged(path, exc) from exc
        raise

"""SQLite through aiosqlite for async callers: every statement runs on aiosqlite's own thread,
never on the event loop's.

The file is opened by `sqlite_open.open_db` (WAL, busy timeout, migrations, damage as one line),
run on that thread as aiosqlite's connector: one way to open a database, for async callers and
for the CLI's blocking scan alike. `LIBRARY_MIGRATIONS` (library_schema.py) is the model
library's schema (models table + FTS5 index).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import aiosqlite

from comfy_tui.store.library_schema import LIBRARY_MIGRATIONS
from comfy_tui.store.sqlite_open import damage_reported, is_damage, open_db, split_statements

__all__ = ["LIBRARY_MIGRATIONS", "connect", "is_damage", "split_statements"]


async def _thread_ended(db: aiosqlite.Connection) -> None:
    """Wait until aiosqlite's worker thread has ended. It reports to this loop as it ends, so
    a loop closed before that (a cancelled job at exit) makes it fail in its thread."""
    thread = getattr(db, "_thread", None)  # aiosqlite's own; no public way to wait for it
    if thread is not None and thread.is_alive():
        await asyncio.to_thread(thread.join, 10.0)


def _connector(path: Path, migrations: Sequence[str]) -> sqlite3.Connection:
    db = open_db(path, migrations)
    db.row_factory = sqlite3.Row
    return db


@contextlib.asynccontextmanager
async def connect(
    path: Path, migrations: Sequence[str] = LIBRARY_MIGRATIONS
) -> AsyncIterator[aiosqlite.Connection]:
    """Open `path` (created if missing, mode 0600) in WAL mode, migrated, rows as `sqlite3.Row`."""
    opening = aiosqlite.Connection(lambda: _connector(path, migrations), 64)
    try:
        db = await opening
    except BaseException:
        await _thread_ended(opening)
        raise
    try:
        with damage_reported(path):
            yield db
    finally:
        closing = asyncio.ensure_future(db.close())
        try:
            await asyncio.shield(closing)
        except asyncio.CancelledError:
            await asyncio.wait({closing})  # a second cancel does not leave it half closed
            raise
        await _thread_ended(db)

"""SQLite store: WAL, migrations by user_version, FTS kept in sync, never on the loop thread."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from comfy_tui.errors import DamagedIndexError, MetadataError
from comfy_tui.store import models_index as index
from comfy_tui.store.db import LIBRARY_MIGRATIONS, connect, is_damage, split_statements
from comfy_tui.store.models_index import ModelRecord


def record(relpath: str, **kw: Any) -> ModelRecord:
    values: dict[str, Any] = {
        "root": "/lib",
        "relpath": relpath,
        "folder": relpath.split("/")[0],
        "name": relpath.rsplit("/", 1)[-1],
        "size": 10,
        "mtime_ns": 1,
        "format": "safetensors",
        "status": "ok",
        "added_at": 0.0,
    }
    values.update(kw)
    return ModelRecord(**values)


async def _version(db: aiosqlite.Connection) -> int:
    async with db.execute("PRAGMA user_version") as c:
        row = await c.fetchone()
    assert row is not None
    return int(row[0])


async def test_new_database_is_wal_and_fully_migrated(tmp_path: Path) -> None:
    path = tmp_path / "lib.db"
    async with connect(path) as db:
        async with db.execute("PRAGMA journal_mode") as c:
            assert (await c.fetchone())[0] == "wal"  # type: ignore[index]
        async with db.execute("PRAGMA user_version") as c:
            assert (await c.fetchone())[0] == len(LIBRARY_MIGRATIONS)  # type: ignore[index]
    assert path.stat().st_mode & 0o777 == 0o600


async def test_migrations_run_once_and_only_the_missing_ones(tmp_path: Path) -> None:
    path = tmp_path / "lib.db"
    async with connect(path, LIBRARY_MIGRATIONS[:1]) as db:  # a row in the first schema
        await db.execute(
            "INSERT INTO models (root, relpath, folder, name, size, mtime_ns, format, status,"
            " added_at) VALUES ('/r', 'loras/a.safetensors', 'loras', 'a.safetensors', 1, 2,"
            " 'safetensors', 'ok', 3.0)"
        )
        await db.commit()
    async with connect(path) as db:
        [row] = await index.select_models(db)
        assert (row.relpath, row.source_commit) == ("loras/a.safetensors", None)
        await index.put_cached_hash(db, 1, 2, 3, 4, "ab")
        assert await index.cached_hash(db, 1, 2, 3, 4) == "ab"


async def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "lib.db"
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA user_version = 99")
    with pytest.raises(MetadataError, match="newer comfy-tui"):
        async with connect(path):
            pass


async def test_a_failed_migration_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "lib.db"
    broken = (LIBRARY_MIGRATIONS[0], "CREATE TABLE ok (x);\nCREATE TABLE oops (;")
    with pytest.raises(MetadataError, match="unusable"):
        async with connect(path, broken):
            pass
    async with connect(path, LIBRARY_MIGRATIONS[:1]) as db:
        async with db.execute("PRAGMA user_version") as c:
            assert (await c.fetchone())[0] == 1  # type: ignore[index]
        async with db.execute("SELECT name FROM sqlite_master WHERE name = 'ok'") as c:
            assert await c.fetchall() == []


async def test_two_openers_of_a_new_file_migrate_it_once(tmp_path: Path) -> None:
    path = tmp_path / "lib.db"
    # The second step is not idempotent: each run of it would add a row.
    counting = ("CREATE TABLE runs (step INTEGER);", "INSERT INTO runs VALUES (2);")

    async def open_once() -> int:
        async with connect(path, counting) as db:
            return await _version(db)

    versions = await asyncio.gather(*(open_once() for _ in range(4)))
    assert versions == [2, 2, 2, 2]
    async with connect(path, counting) as db, db.execute("SELECT step FROM runs") as c:
        assert [tuple(row) for row in await c.fetchall()] == [(2,)]


def test_split_statements_keeps_triggers_whole() -> None:
    parts = split_statements(LIBRARY_MIGRATIONS[0])
    triggers = [p for p in parts if p.startswith("CREATE TRIGGER")]
    assert len(triggers) == 3 and all(t.endswith("END;") for t in triggers)


async def test_fts_follows_inserts_updates_and_deletes(tmp_path: Path) -> None:
    async with connect(tmp_path / "lib.db") as db:
        await index.upsert_models(db, [record("loras/sd_xl_style.safetensors", tags="anime")])
        await db.commit()

        async def names(match: str) -> list[str]:
            return [m.name for m in await index.select_models(db, match=match)]

        assert await names('"xl"*') == ["sd_xl_style.safetensors"]
        assert await names('"anim"*') == ["sd_xl_style.safetensors"]
        await index.upsert_models(
            db, [record("loras/sd_xl_style.safetensors", architecture="SDXL", tags="")]
        )
        await db.commit()
        assert await names('"anim"*') == []
        assert await names('"sdxl"*') == ["sd_xl_style.safetensors"]
        await index.delete_ids(db, [m.id or 0 for m in await index.select_models(db)])
        await db.commit()
        assert await names('"xl"*') == []


async def test_upsert_keeps_source_and_added_at(tmp_path: Path) -> None:
    async with connect(tmp_path / "lib.db") as db:
        first = record("loras/a.safetensors", source_url="https://x.example/a", added_at=5.0)
        await index.upsert_models(db, [first])
        await index.upsert_models(db, [record("loras/a.safetensors", size=99, added_at=9.0)])
        await db.commit()
        (row,) = await index.select_models(db)
    assert (row.size, row.added_at, row.source_url) == (99, 5.0, "https://x.example/a")


async def test_sqlite_never_runs_on_the_event_loop_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: set[int] = set()
    real_connect = sqlite3.connect

    def traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        threads.add(threading.get_ident())
        conn = real_connect(*args, **kwargs)
        conn.set_trace_callback(lambda _sql: threads.add(threading.get_ident()))
        return conn

    monkeypatch.setattr(aiosqlite.core.sqlite3, "connect", traced)
    async with connect(tmp_path / "lib.db") as db:
        await index.upsert_models(db, [record("loras/a.safetensors")])
        await db.commit()
        await index.select_models(db, match='"a"*')
    assert threads, "the trace saw no statement"
    assert threading.get_ident() not in threads


async def test_a_rescan_of_the_same_file_keeps_its_hash(tmp_path: Path) -> None:
    async with connect(tmp_path / "lib.db") as db:
        await index.upsert_models(db, [record("loras/a.safetensors", sha256="ab", ino=7)])
        await index.upsert_models(db, [record("loras/a.safetensors", ino=7)])
        assert (await index.select_models(db))[0].sha256 == "ab"
        await index.upsert_models(db, [record("loras/a.safetensors", ino=8)])
        assert (await index.select_models(db))[0].sha256 is None


async def test_a_file_that_is_not_a_database_is_damaged_with_a_rebuild_hint(
    tmp_path: Path,
) -> None:
    path = tmp_path / "lib.db"
    path.write_bytes(b"not sqlite\n" * 500)
    with pytest.raises(DamagedIndexError, match=r"damaged .*comfy-tui models scan"):
        async with connect(path):
            pass
    assert not is_damage(sqlite3.OperationalError("database is locked"))

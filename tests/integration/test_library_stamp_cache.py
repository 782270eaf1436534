"""The rescan's stamp cache (store/stamp_cache.py) is only ever a faster read of the index:
any writer's change, a torn file, another index's file: the scan reads sqlite and is right."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from comfy_tui.errors import DamagedIndexError
from comfy_tui.paths import DataPaths
from comfy_tui.services.library.scan import ScanSummary
from comfy_tui.store.stamp_cache import cache_path
from tests.fakes import models as fm
from tests.integration.library_helpers import drain, make_library


def fill(root: Path) -> None:
    fm.write_safetensors(root / "checkpoints" / "sd15.safetensors", fm.sd15_checkpoint())
    fm.write_safetensors(root / "loras" / "style" / "xl.safetensors", fm.sdxl_lora())
    (root / "top.ckpt").write_bytes(b"\x80\x04not loaded")


def counts(summary: ScanSummary) -> tuple[int, int, int, int]:
    return (summary.new, summary.changed, summary.removed, summary.unchanged)


async def test_an_unchanged_rescan_leaves_the_cache_and_a_change_rewrites_it(
    data_dir: Path,
) -> None:
    library = make_library(data_dir)
    fill(library.main_root())
    await drain(library.scan())
    stamps = cache_path(DataPaths(data_dir).library_db())
    first = stamps.stat()
    again = ScanSummary()
    await drain(library.scan(again))
    assert counts(again) == (0, 0, 0, 3)
    assert stamps.stat().st_mtime_ns == first.st_mtime_ns
    assert stamps.stat().st_ino == first.st_ino, "not written again"
    (library.main_root() / "top.ckpt").write_bytes(b"\x80\x04longer, not loaded")
    changed = ScanSummary()
    await drain(library.scan(changed))
    assert counts(changed) == (0, 1, 0, 2)
    assert stamps.stat().st_ino != first.st_ino, "replaced (temp file, rename)"


async def test_another_writers_change_makes_the_cache_stale(data_dir: Path) -> None:
    library = make_library(data_dir)
    fill(library.main_root())
    await drain(library.scan())
    db_path = DataPaths(data_dir).library_db()
    with sqlite3.connect(db_path) as db:  # a writer that knows nothing of the cache
        db.execute("DELETE FROM models WHERE relpath = 'top.ckpt'")
        db.execute("UPDATE models SET size = size + 1 WHERE relpath LIKE 'loras/%'")
    summary = ScanSummary()
    await drain(library.scan(summary))
    # With the cache trusted, both would pass as unchanged and the index stay wrong.
    assert counts(summary) == (1, 1, 0, 1)
    assert sorted(m.relpath for m in await library.list_models()) == [
        "checkpoints/sd15.safetensors",
        "loras/style/xl.safetensors",
        "top.ckpt",
    ]


async def test_a_torn_or_foreign_cache_file_is_ignored(data_dir: Path) -> None:
    library = make_library(data_dir)
    fill(library.main_root())
    await drain(library.scan())
    db_path = DataPaths(data_dir).library_db()
    stamps = cache_path(db_path)
    whole = stamps.read_bytes()
    stamps.write_bytes(whole[: len(whole) // 2])
    torn = ScanSummary()
    await drain(library.scan(torn))
    assert counts(torn) == (0, 0, 0, 3)
    assert stamps.read_bytes() == whole, "written again from the index"
    # A new index (deleted, or rebuilt after damage) has another identity: its first scan
    # finds every file new, although the old cache file says they are known.
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    fresh = ScanSummary()
    await drain(library.scan(fresh))
    assert counts(fresh) == (3, 0, 0, 0)
    assert len(await library.list_models()) == 3


async def test_damage_the_cache_would_hide_is_rebuilt_by_the_scan_the_error_asks_for(
    data_dir: Path,
) -> None:
    library = make_library(data_dir)
    fill(library.main_root())
    await drain(library.scan())
    db_path = DataPaths(data_dir).library_db()
    with sqlite3.connect(db_path) as db:
        (root_page,) = db.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'models'"
        ).fetchone()
        (page_size,) = db.execute("PRAGMA page_size").fetchone()
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with db_path.open("r+b") as f:  # the models table's page: garbage; schema and label intact
        f.seek((root_page - 1) * page_size)
        f.write(b"\xff" * page_size)
    stamps = cache_path(db_path)
    assert stamps.is_file()
    try:
        await library.list_models()
    except DamagedIndexError:
        pass
    else:  # pragma: no cover - the page is garbage
        raise AssertionError("the damage went unnoticed")
    assert not stamps.exists(), "dropped with the error that asks for a scan"
    summary = ScanSummary()
    await drain(library.scan(summary))
    assert summary.rebuilt and summary.new == 3
    assert len(await library.list_models()) == 3

"""Duplicates across the library and installed versions' own models/ folders; hashing jobs."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from comfy_tui.events import LogLine, Progress
from comfy_tui.services.library.dedupe import DuplicateReport
from comfy_tui.services.library.scan import ScanSummary
from comfy_tui.services.library.service import LibraryService
from comfy_tui.store.version_records import VersionRecord, save_record
from tests.fakes import models as fm
from tests.fakes.opens import count_opens
from tests.integration.library_helpers import drain, make_library


def add_version(library: LibraryService, tag: str, where: Path) -> Path:
    save_record(library.paths, VersionRecord(tag=tag, path=str(where), python="/bin/false"))
    return where / "models"


async def report_of(library: LibraryService) -> DuplicateReport:
    out: list[DuplicateReport] = []
    await drain(library.find_duplicates(out))
    return out[0]


@pytest.fixture
def tmpfs() -> Iterator[Path]:
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        pytest.skip("no writable /dev/shm")
    with tempfile.TemporaryDirectory(dir=shm) as folder:
        yield Path(folder)


async def test_duplicates_are_found_and_replaced_by_hard_links(
    data_dir: Path, tmp_path: Path
) -> None:
    library = make_library(data_dir)
    root = library.main_root()
    a = fm.write_safetensors(root / "loras" / "a.safetensors", fm.sdxl_lora())
    b = fm.write_safetensors(root / "loras" / "b.safetensors", fm.sdxl_lora())
    fm.write_safetensors(root / "vae" / "unique.safetensors", fm.sd_vae())
    v1 = add_version(library, "v1", tmp_path / "v1")
    v2 = add_version(library, "v2", tmp_path / "v2")
    a_in_v1 = fm.write_safetensors(v1 / "loras" / "a_copy.safetensors", fm.sdxl_lora())
    c1 = fm.write_safetensors(v1 / "checkpoints" / "c.safetensors", fm.sd15_checkpoint())
    c2 = fm.write_safetensors(v2 / "checkpoints" / "c.safetensors", fm.sd15_checkpoint())
    os.link(c2, v2 / "checkpoints" / "c_link.safetensors")  # already one file: not a copy
    await drain(library.scan())

    report = await report_of(library)
    assert len(report.groups) == 2
    by_size = {g.size: g for g in report.groups}
    lora = by_size[a.stat().st_size]
    assert [f.where for f in lora.files] == ["library", "library", "version v1"]
    assert lora.reclaimable == 2 * lora.size
    ckpt = by_size[c1.stat().st_size]
    assert ckpt.reclaimable == ckpt.size
    assert report.reclaimable == lora.reclaimable + ckpt.reclaimable

    await drain(library.apply_dedupe(report))
    assert a.stat().st_ino == b.stat().st_ino == a_in_v1.stat().st_ino
    assert c1.stat().st_ino == c2.stat().st_ino
    assert a_in_v1.read_bytes() == a.read_bytes()
    assert (await report_of(library)).reclaimable == 0
    summary = ScanSummary()
    with count_opens() as opened:
        await drain(library.scan(summary))
    assert summary.changed == 0, "the index follows the new links"
    assert [p for p in opened if p.startswith(str(root))] == []


async def test_hashes_of_version_files_are_cached(data_dir: Path, tmp_path: Path) -> None:
    library = make_library(data_dir)
    fm.write_safetensors(library.main_root() / "loras" / "a.safetensors", fm.sdxl_lora())
    v1 = add_version(library, "v1", tmp_path / "v1")
    copy = fm.write_safetensors(v1 / "loras" / "a.safetensors", fm.sdxl_lora())
    await drain(library.scan())
    await report_of(library)
    with count_opens() as opened:
        again = await report_of(library)
    assert str(copy) not in opened
    assert again.reclaimable > 0


async def test_copies_on_another_filesystem_are_reported_not_linked(
    data_dir: Path, tmpfs: Path
) -> None:
    library = make_library(data_dir)
    if tmpfs.stat().st_dev == library.main_root().stat().st_dev:
        pytest.skip("/dev/shm is on the same filesystem as the tests")
    fm.write_safetensors(library.main_root() / "loras" / "a.safetensors", fm.sdxl_lora())
    far = fm.write_safetensors(
        add_version(library, "v9", tmpfs / "v9") / "loras" / "a.safetensors", fm.sdxl_lora()
    )
    await drain(library.scan())
    report = await report_of(library)
    (group,) = report.groups
    assert [f.path for f in group.stranded()] == [str(far)]
    assert report.reclaimable == 0 and report.stranded == group.size
    inode = far.stat().st_ino
    events = await drain(library.apply_dedupe(report))
    assert any(isinstance(e, LogLine) and "another filesystem" in e.text for e in events)
    assert far.stat().st_ino == inode


async def test_a_file_changed_after_hashing_is_not_replaced(data_dir: Path, tmp_path: Path) -> None:
    library = make_library(data_dir)
    fm.write_safetensors(library.main_root() / "loras" / "a.safetensors", fm.sdxl_lora())
    copy = fm.write_safetensors(
        add_version(library, "v1", tmp_path / "v1") / "loras" / "a.safetensors", fm.sdxl_lora()
    )
    await drain(library.scan())
    report = await report_of(library)
    copy.write_bytes(b"edited meanwhile")
    events = await drain(library.apply_dedupe(report))
    assert any(isinstance(e, LogLine) and "changed since" in e.text for e in events)
    assert copy.read_bytes() == b"edited meanwhile"


async def test_hash_all_and_cancel(data_dir: Path) -> None:
    library = make_library(data_dir)
    root = library.main_root()
    fm.write_safetensors(root / "loras" / "small.safetensors", fm.sdxl_lora())
    big = root / "checkpoints" / "big.safetensors"
    big.parent.mkdir(parents=True)
    big.write_bytes(fm.safetensors_bytes(fm.keys(["w"])))
    with big.open("ab") as f:
        f.truncate(512 * 1024 * 1024)
    await drain(library.scan())
    started = asyncio.Event()

    async def consume() -> None:
        async for event in library.hash_models():
            if isinstance(event, Progress) and event.detail == "big.safetensors":
                started.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(started.wait(), 30)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    hashed = {m.name: m.sha256 for m in await library.list_models()}
    assert hashed["big.safetensors"] is None
    events = await drain(library.hash_models([m.id or 0 for m in await library.list_models()]))
    assert events[-1].detail == "2 of 2 hashed"  # type: ignore[union-attr]
    with big.open("rb") as f:
        expected = hashlib.file_digest(f, "sha256").hexdigest()
    assert {m.name: m.sha256 for m in await library.list_models()}["big.safetensors"] == expected

"""Scan: make the index match the roots. New files are added, changed ones (size, mtime or
inode) re-read, vanished ones dropped; unchanged files are never opened.

Headers are read in batches in a worker thread; each batch is one transaction, so a killed scan
keeps what it finished and the next scan does the rest. A damaged index is set aside and built
again from the files (see rebuild.py).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from comfy_tui.errors import DamagedIndexError
from comfy_tui.events import Event, Finished, LogLine, Progress
from comfy_tui.services.library.folder_types import folder_of
from comfy_tui.services.library.rebuild import apply_salvaged, set_aside
from comfy_tui.services.library.threads import Cancelled, run_blocking
from comfy_tui.services.library.walk import FoundFile, WalkResult, walk_root
from comfy_tui.store import models_index as index
from comfy_tui.store.db import connect
from comfy_tui.store.models_index import ModelRecord, encode_metadata

if TYPE_CHECKING:  # headers are read only for new and changed files
    from comfy_tui.services.library.headers import HeaderInfo

log = logging.getLogger(__name__)

__all__ = ["BATCH", "ScanSummary", "record_for", "scan_roots"]

BATCH = 256


@dataclass
class ScanSummary:
    """Filled in while a scan runs (the CLI prints it, the bench checks `opened`)."""

    files: int = 0
    new: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    unreadable: int = 0
    opened: int = 0  # headers read: new and changed safetensors/GGUF files only
    skipped: list[str] = field(default_factory=list)
    rebuilt: bool = False  # the index was damaged and was built again from the files
    salvaged: int = 0  # rows whose hash or download source was kept from the damaged index

    def restart(self) -> None:
        """Count a rebuild from zero, not the try that found the index damaged."""
        for name, value in vars(ScanSummary(rebuilt=True)).items():
            setattr(self, name, value)

    def line(self) -> str:
        rebuilt = "index rebuilt; " if self.rebuilt else ""
        return (
            f"{rebuilt}{self.files} files: {self.new} new, {self.changed} changed, "
            f"{self.removed} removed, {self.unchanged} unchanged, {self.unreadable} unreadable"
        )


def record_for(
    root: Path, found: FoundFile, info: HeaderInfo, added_at: float, **extra: object
) -> ModelRecord:
    """The index row for a file and what its header said."""
    return ModelRecord(
        root=str(root),
        relpath=found.relpath,
        folder=folder_of(found.relpath),
        name=found.relpath.rsplit("/", 1)[-1],
        size=found.size,
        mtime_ns=found.mtime_ns,
        dev=found.dev,
        ino=found.ino,
        format=info.format,
        status=info.status,
        problem=info.problem,
        kind=info.guess.kind,
        architecture=info.guess.architecture,
        parameters=info.parameters,
        tensors=info.tensors,
        dtypes_csv=",".join(info.dtypes),
        metadata_json=encode_metadata(info.metadata),
        tags=info.tags,
        added_at=added_at,
        **extra,  # type: ignore[arg-type]
    )


def _read_batch(
    root: Path, batch: Sequence[FoundFile], added_at: float, cancel: threading.Event
) -> list[ModelRecord]:
    from comfy_tui.services.library.headers import read_header

    records = []
    for found in batch:
        if cancel.is_set():
            raise Cancelled(str(root))
        info = read_header(root.joinpath(*found.relpath.split("/")))
        records.append(record_for(root, found, info, added_at))
    return records


async def _scan_root(
    db_path: Path,
    root: Path,
    clock: Callable[[], float],
    summary: ScanSummary,
    span: tuple[float, float],
) -> AsyncIterator[Event]:
    walked: WalkResult = await run_blocking(lambda cancel: walk_root(root, cancel=cancel))
    summary.skipped.extend(walked.skipped)
    for line in walked.skipped:
        yield LogLine(line, source="scan")
    async with connect(db_path) as db:
        known = await index.load_stat_rows(db, str(root))
        todo: list[FoundFile] = []
        for found in walked.files:
            row = known.pop(found.relpath, None)
            if row is None:
                summary.new += 1
            elif row[2:] != (found.size, found.mtime_ns, found.ino):  # size, mtime_ns, ino
                summary.changed += 1
            else:
                summary.unchanged += 1
                continue
            todo.append(found)
        summary.files += len(walked.files)
        if known:
            await index.delete_ids(db, [row[0] for row in known.values()])
            await db.commit()
            summary.removed += len(known)
        now = clock()
        for start in range(0, len(todo), BATCH):
            batch = todo[start : start + BATCH]
            records = await run_blocking(partial(_read_batch, root, batch, now))
            summary.opened += sum(r.format in ("safetensors", "gguf") for r in records)
            summary.unreadable += sum(r.status == "unreadable" for r in records)
            await index.upsert_models(db, records)
            await db.commit()
            done = start + len(batch)
            fraction = span[0] + span[1] * done / len(todo)
            yield Progress("read headers", fraction, detail=f"{done} of {len(todo)} in {root}")


async def _scan_all(
    db_path: Path, roots: Sequence[Path], clock: Callable[[], float], summary: ScanSummary
) -> AsyncIterator[Event]:
    async with connect(db_path) as db:
        async with db.execute("SELECT DISTINCT root FROM models") as cursor:
            indexed = {str(r[0]) for r in await cursor.fetchall()}
        gone = indexed - {str(r) for r in roots}
        for root_text in sorted(gone):
            cursor = await db.execute("DELETE FROM models WHERE root = ?", (root_text,))
            summary.removed += max(cursor.rowcount, 0)
        await db.commit()
    for number, root in enumerate(roots, 1):
        yield Progress("scan", (number - 1) / len(roots), detail=str(root))
        if not await asyncio.to_thread(root.is_dir):
            line = f"{root}: not found (an unmounted disk?); its entries are kept"
            summary.skipped.append(line)
            yield LogLine(line, source="scan")
            continue
        span = ((number - 1) / len(roots), 1 / len(roots))
        async for event in _scan_root(db_path, root, clock, summary, span):
            yield event


async def scan_roots(
    db_path: Path,
    roots: Sequence[Path],
    *,
    clock: Callable[[], float],
    summary: ScanSummary | None = None,
) -> AsyncIterator[Event]:
    """Scan every root; rows of roots that are no longer configured are dropped.

    A configured root that does not exist (an unmounted disk) keeps its rows and is reported.
    A damaged index is set aside and rebuilt by a full scan (once).
    """
    summary = summary if summary is not None else ScanSummary()
    try:
        async for event in _scan_all(db_path, roots, clock, summary):
            yield event
    except DamagedIndexError as exc:
        yield LogLine("the model index is damaged; rebuilding it from the files", "scan")
        damaged, salvaged = await asyncio.to_thread(set_aside, db_path)
        log.warning("%s; set aside as %s", exc, damaged)
        summary.restart()
        async for event in _scan_all(db_path, roots, clock, summary):
            yield event
        async with connect(db_path) as db:
            summary.salvaged = await apply_salvaged(db, salvaged)
            await db.commit()
        yield LogLine(
            f"the damaged index is kept as {damaged}; {summary.salvaged} hash(es) or download "
            "source(s) carried over",
            "scan",
        )
    yield Finished(summary.line())

"""Scan: make the index match the roots. New files are added, changed ones (size, mtime or
inode) re-read, vanished ones dropped; unchanged files are never opened.

The scan is one blocking generator of events, `scan_library` (stdlib `sqlite3`, no event
loop): the CLI runs it in its main thread, and `LibraryService.scan` (the TUI) in a worker
thread through `threads.iterate_in_thread`, so the event loop never waits on it. Headers are
read in batches; each batch is one transaction, so a killed scan keeps what it finished and the
next scan does the rest. A damaged index is set aside and built again from the files (see
rebuild.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from comfy_tui.errors import DamagedIndexError
from comfy_tui.events import Event, Finished, LogLine, Progress
from comfy_tui.services.library.cancel import Cancelled
from comfy_tui.services.library.folder_types import folder_of
from comfy_tui.services.library.library_lock import clear_staging_when_free
from comfy_tui.services.library.walk import FoundFile, walk_root
from comfy_tui.store.library_schema import LIBRARY_MIGRATIONS
from comfy_tui.store.sqlite_open import opened
from comfy_tui.store.stamp_cache import Label, cache_path, read_cache, read_label, write_cache
from comfy_tui.store.stat_rows import Known, drop_rows, load_known, relpaths_of

if TYPE_CHECKING:  # headers and records are made only for new and changed files
    import sqlite3
    import threading

    from comfy_tui.paths import DataPaths
    from comfy_tui.services.library.headers import HeaderInfo
    from comfy_tui.store.models_index import ModelRecord

__all__ = ["BATCH", "ScanSummary", "record_for", "scan_library", "scan_roots", "scan_steps"]

BATCH = 256
Clock = Callable[[], float]


class ScanSummary:
    """Filled in while a scan runs (the CLI prints it, the bench checks `opened`). A plain
    class: `models scan` imports no `dataclasses` (and `inspect`, `ast`) for it."""

    def __init__(self, *, rebuilt: bool = False) -> None:
        self.files = 0
        self.new = 0
        self.changed = 0
        self.removed = 0
        self.unchanged = 0
        self.unreadable = 0
        self.opened = 0  # headers read: new and changed safetensors/GGUF files only
        self.skipped: list[str] = []
        self.rebuilt = rebuilt  # the index was damaged and was built again from the files
        self.salvaged = 0  # rows whose hash or download source was kept from the damaged index

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
    from comfy_tui.store.models_index import ModelRecord, encode_metadata

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


def sort_out(known: Known, files: Sequence[FoundFile], summary: ScanSummary) -> list[FoundFile]:
    """The files to read (new, or changed in size, mtime or inode); what stays in `known` is
    gone from the disk. With the walk's own check (`walk_root(known=...)`), the one place that
    decides "unchanged": such a file is never opened. The files to read come sorted by
    relpath, in whatever order `files` is."""
    todo: list[FoundFile] = []
    for found in files:
        cut = found.relpath.rfind("/") + 1
        stamps = known.get(found.relpath[:cut])
        stamp = stamps.pop(found.relpath[cut:], None) if stamps is not None else None
        if stamp is None:
            summary.new += 1
        elif stamp != (found.size, found.mtime_ns, found.ino):
            summary.changed += 1
        else:
            summary.unchanged += 1
            continue
        todo.append(found)
    todo.sort()  # by relpath: the first field, and unique
    return todo


def _read_batch(
    root: Path, batch: Sequence[FoundFile], added_at: float, cancel: threading.Event | None
) -> list[ModelRecord]:
    from comfy_tui.services.library.headers import read_header

    records = []
    for found in batch:
        if cancel is not None and cancel.is_set():
            raise Cancelled(str(root))
        info = read_header(root.joinpath(*found.relpath.split("/")))
        records.append(record_for(root, found, info, added_at))
    return records


def _scan_root(
    db: sqlite3.Connection,
    root: Path,
    clock: Clock,
    summary: ScanSummary,
    span: tuple[float, float],
    cancel: threading.Event | None,
    known: Known | None,
) -> Iterator[Event]:
    if known is None:
        known = load_known(db, str(root))
    walked = walk_root(root, cancel=cancel, in_order=False, known=known)
    summary.skipped.extend(walked.skipped)
    for line in walked.skipped:
        yield LogLine(line, source="scan")
    todo = sort_out(known, walked.files, summary)
    summary.files += len(walked.files) + walked.unchanged
    summary.unchanged += walked.unchanged
    gone = relpaths_of(known)
    if gone:
        drop_rows(db, str(root), gone)
        db.commit()
        summary.removed += len(gone)
    if not todo:
        return
    from comfy_tui.store.models_index import write_models

    now = clock()
    for start in range(0, len(todo), BATCH):
        batch = todo[start : start + BATCH]
        records = _read_batch(root, batch, now, cancel)
        summary.opened += sum(r.format in ("safetensors", "gguf") for r in records)
        summary.unreadable += sum(r.status == "unreadable" for r in records)
        write_models(db, records)
        db.commit()
        done = start + len(batch)
        fraction = span[0] + span[1] * done / len(todo)
        yield Progress("read headers", fraction, detail=f"{done} of {len(todo)} in {root}")


def _scan_all(
    db_path: Path,
    roots: Sequence[Path],
    clock: Clock,
    summary: ScanSummary,
    cancel: threading.Event | None,
) -> Iterator[Event]:
    with opened(db_path, LIBRARY_MIGRATIONS) as db:
        label = read_label(db)
        stamps_file = cache_path(db_path)
        cached = read_cache(stamps_file, label)
        if cached is None:
            cached = {}
            indexed = {str(r[0]) for r in db.execute("SELECT DISTINCT root FROM models")}
        else:  # the label matches: the roots the cache holds stamps for are the indexed ones
            indexed = {root for root, known in cached.items() if known}
        missed = any(str(root) not in cached for root in roots)
        gone = indexed - {str(r) for r in roots}
        for root_text in sorted(gone):
            cursor = db.execute("DELETE FROM models WHERE root = ?", (root_text,))
            summary.removed += max(cursor.rowcount, 0)
        if gone:
            db.commit()
        for number, root in enumerate(roots, 1):
            yield Progress("scan", (number - 1) / len(roots), detail=str(root))
            if not root.is_dir():
                line = f"{root}: not found (an unmounted disk?); its entries are kept"
                summary.skipped.append(line)
                yield LogLine(line, source="scan")
                continue
            span = ((number - 1) / len(roots), 1 / len(roots))
            known = cached.pop(str(root), None)
            yield from _scan_root(db, root, clock, summary, span, cancel, known)
        _keep_cache(db, stamps_file, label, roots, missed)


def _keep_cache(
    db: sqlite3.Connection, path: Path, label: Label, roots: Sequence[Path], missed: bool
) -> None:
    """Write the stamp cache again when the index changed or the cache lacked a root."""
    now = read_label(db)
    if now == label and not missed:
        return
    write_cache(path, now, {str(root): load_known(db, str(root)) for root in roots})


def scan_steps(
    db_path: Path,
    roots: Sequence[Path],
    *,
    clock: Clock,
    summary: ScanSummary | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[Event]:
    """Scan every root; rows of roots that are no longer configured are dropped. Blocking.

    A configured root that does not exist (an unmounted disk) keeps its rows and is reported.
    A damaged index is set aside and rebuilt by a full scan (once). A set `cancel` stops the
    scan between directories and between files read (`Cancelled`).
    """
    summary = summary if summary is not None else ScanSummary()
    try:
        yield from _scan_all(db_path, roots, clock, summary, cancel)
    except DamagedIndexError as exc:
        import logging  # only here: an unchanged library's scan logs nothing

        from comfy_tui import log_start
        from comfy_tui.services.library.rebuild import apply_salvaged, set_aside

        yield LogLine("the model index is damaged; rebuilding it from the files", "scan")
        damaged, salvaged = set_aside(db_path)
        log_start.ensure()  # the CLI's `models scan` sets its log file up only now
        logging.getLogger(__name__).warning("%s; set aside as %s", exc, damaged)
        summary.restart()
        yield from _scan_all(db_path, roots, clock, summary, cancel)
        with opened(db_path, LIBRARY_MIGRATIONS) as db:
            summary.salvaged = apply_salvaged(db, salvaged)
            db.commit()
        yield LogLine(
            f"the damaged index is kept as {damaged}; {summary.salvaged} hash(es) or download "
            "source(s) carried over",
            "scan",
        )
    yield Finished(summary.line())


def scan_library(
    paths: DataPaths,
    roots: Sequence[Path],
    *,
    clock: Clock,
    summary: ScanSummary | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[Event]:
    """The library's scan job: what a killed import left in staging is removed when no other
    library job runs (an import in progress keeps its staging file), then `scan_steps`."""
    clear_staging_when_free(paths.library_lock(), paths.library_staging())
    yield from scan_steps(paths.library_db(), roots, clock=clock, summary=summary, cancel=cancel)


async def scan_roots(
    db_path: Path,
    roots: Sequence[Path],
    *,
    clock: Clock,
    summary: ScanSummary | None = None,
) -> AsyncIterator[Event]:
    """`scan_steps` in a worker thread, for a caller on an event loop."""
    from comfy_tui.services.library.threads import iterate_in_thread

    def steps(cancel: threading.Event) -> Iterator[Event]:
        return scan_steps(db_path, roots, clock=clock, summary=summary, cancel=cancel)

    async for event in iterate_in_thread(steps):
        yield event

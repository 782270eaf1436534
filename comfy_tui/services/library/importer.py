"""Bring planned files into the library: hardlink when possible, else a verified copy.

Every file is first staged in `library/.staging/` (same filesystem as the library): a hard link
to the source, or a copy hashed while it is written, fsync-ed, then hashed again from disk and
compared. Only a complete, verified file is linked into place (never over an existing name:
a clash gets `name-1.ext`), and its index row is written after that. A kill at any moment leaves
at most a staging file, which the next import removes; never a partial file in `models/`.
A kill between placing a file and indexing it leaves a complete file without a row: the next
scan adds it, and so does the next import of it (it finds its own content under the wanted
name and indexes it). Content already in the library (same sha256) is not stored twice.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal

import aiosqlite

from comfy_tui.errors import ComfyTuiError
from comfy_tui.events import Event, Finished, LogLine
from comfy_tui.services.faults import checkpoint
from comfy_tui.services.library.hashing import sha256_file, sha256_stream, track
from comfy_tui.services.library.headers import read_header
from comfy_tui.services.library.library_lock import clear_staging
from comfy_tui.services.library.plan import PlannedFile, Skipped
from comfy_tui.services.library.scan import record_for
from comfy_tui.services.library.threads import Counter, ThreadJob, run_blocking
from comfy_tui.services.library.walk import FoundFile
from comfy_tui.store import models_index as index
from comfy_tui.store.atomic import fsync_dir
from comfy_tui.store.db import connect
from comfy_tui.validate import safe_relpath

__all__ = ["ImportMode", "ImportOutcome", "clear_staging", "import_planned", "place_file"]

ImportMode = Literal["auto", "copy", "move", "link"]
_NO_LINK = (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EMLINK, errno.EOPNOTSUPP)
MAX_SUFFIX = 1000


@dataclass(frozen=True)
class ImportOutcome:
    source: str
    relpath: str  # where the content is in the library (the existing copy for duplicates)
    action: str  # "hardlinked", "copied", "moved", "already present", "skipped"
    sha256: str
    reason: str = ""  # why a file was skipped (its folder cannot be told, ...)


def _stage_link(source: Path, staged: Path) -> bool:
    try:
        os.link(source, staged, follow_symlinks=True)
    except OSError as exc:
        if exc.errno in _NO_LINK:
            return False
        raise
    return True


def _stage_copy(source: Path, staged: Path, counter: Counter, cancel: threading.Event) -> str:
    """Copy while hashing the source bytes; fsync; hash the copy from disk; they must agree."""
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        digest = sha256_stream(source, progress=counter, cancel=cancel, sink=fd)
        os.fsync(fd)
    finally:
        os.close(fd)
    again = sha256_file(staged, progress=counter, cancel=cancel)
    if again != digest:
        raise ComfyTuiError(f"the copy of {source} does not match it (sha256 differs); not kept")
    return digest


def _stage_hash(staged: Path, counter: Counter, cancel: threading.Event) -> str:
    return sha256_file(staged, progress=counter, cancel=cancel)


def place_file(staged: Path, root: Path, relpath: str, sha256: str) -> tuple[str, bool]:
    """Link `staged` to `relpath` under `root`, or `name-N.ext` if taken by other content.

    Returns (final relpath, True when that name already held the same content). Blocking."""
    folder, _, name = relpath.rpartition("/")
    stem, dot, ext = name.rpartition(".")
    if not stem:
        stem, dot, ext = name, "", ""
    size = staged.stat().st_size
    for n in range(MAX_SUFFIX):
        candidate = relpath if n == 0 else f"{folder}/{stem}-{n}{dot}{ext}"
        target = safe_relpath(root, candidate)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(staged, target)
        except FileExistsError:
            if target.stat().st_size == size and sha256_file(target) == sha256:
                return candidate, True
            continue
        staged.unlink()
        fsync_dir(target.parent)
        return candidate, False
    raise ComfyTuiError(f"{relpath}: {MAX_SUFFIX} files with this name already; rename it")


async def _find_same(db: aiosqlite.Connection, sha256: str, size: int) -> str | None:
    """A library file with this content, hashing unhashed ones of the same size if needed."""
    found = await index.select_models(db, where="sha256 = ?", params=(sha256,), limit=1)
    if found:
        return found[0].relpath
    for row in await index.select_models(db, where="size = ? AND sha256 IS NULL", params=(size,)):
        try:
            digest = await run_blocking(partial(_stage_hash, row.path, Counter()))
        except OSError:
            continue
        if await index.set_hash(db, row.id or 0, digest, row.size, row.mtime_ns):
            await db.commit()
        if digest == sha256:
            return row.relpath
    return None


async def _import_one(
    db: aiosqlite.Connection,
    item: PlannedFile,
    *,
    root: Path,
    staging: Path,
    mode: ImportMode,
    now: float,
    progress: tuple[int, int],
) -> AsyncIterator[Event | ImportOutcome]:
    base, total = progress
    staged = staging / f"{secrets.token_hex(8)}.part"
    try:
        linked = mode != "copy" and await run_blocking(
            lambda _cancel: _stage_link(item.source, staged)
        )
        if not linked and mode == "link":
            raise ComfyTuiError(
                f"{item.source} is on another filesystem than the library: a hard link is "
                "impossible; use --copy or --move"
            )
        counter = Counter()
        work: Callable[[threading.Event], str] = (
            partial(_stage_hash, staged, counter)
            if linked
            else partial(_stage_copy, item.source, staged, counter)
        )
        job = ThreadJob(work)
        try:
            step = "hash" if linked else "copy and verify"
            scale = 1.0 if linked else 0.5  # a copy reads the bytes twice
            name = item.source.name
            async for event in track(
                job, counter, step=step, base=base, total=total, detail=name, scale=scale
            ):
                yield event
            digest = await job.result()
        finally:
            await job.stop()
        checkpoint("import.staged")
        same = await _find_same(db, digest, item.size)
        if same is not None:
            yield ImportOutcome(str(item.source), same, "already present", digest)
            return
        relpath, existed = await run_blocking(
            lambda _cancel: place_file(staged, root, item.relpath, digest)
        )
        checkpoint("import.placed")
        # Also when the name already held this content: `_find_same` did not see it, so it is
        # a file a killed import placed but never indexed; indexing it now makes it visible.
        final = safe_relpath(root, relpath)
        st = final.stat()
        found = FoundFile(relpath, st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino)
        info = await run_blocking(lambda _cancel: read_header(final))
        await index.upsert_models(db, [record_for(root, found, info, now, sha256=digest)])
        await db.commit()
        checkpoint("import.indexed")
        if mode == "move" and not existed:
            item.source.unlink()
        action = {"copy": "copied", "move": "moved"}.get(mode, "hardlinked" if linked else "copied")
        yield ImportOutcome(
            str(item.source), relpath, "already present" if existed else action, digest
        )
    finally:
        with contextlib.suppress(FileNotFoundError):
            staged.unlink()


async def import_planned(
    db_path: Path,
    root: Path,
    staging: Path,
    planned: Sequence[PlannedFile],
    *,
    mode: ImportMode,
    clock: Callable[[], float],
    outcomes: list[ImportOutcome],
    skipped: Sequence[Skipped] = (),
) -> AsyncIterator[Event]:
    """Import every planned file in turn (the caller holds the library lock); `skipped` (files
    of a folder the plan could not place) are reported as outcomes too."""
    total = sum(p.size for p in planned)
    done = 0
    for skip in skipped:
        outcomes.append(ImportOutcome(str(skip.source), "", "skipped", "", skip.reason))
        yield LogLine(f"skipped: {skip.source}: {skip.reason}", source="import")
    async with connect(db_path) as db:
        for item in planned:
            async for event in _import_one(
                db, item, root=root, staging=staging, mode=mode, now=clock(), progress=(done, total)
            ):
                if isinstance(event, ImportOutcome):
                    outcomes.append(event)
                    yield LogLine(f"{event.action}: {event.relpath}", source="import")
                else:
                    yield event
            done += item.size
    present = sum(o.action == "already present" for o in outcomes)
    added = len(outcomes) - present - len(skipped)
    summary = f"{added} imported, {present} already in the library"
    if skipped:
        first = skipped[0]
        summary += f", {len(skipped)} skipped (first: {first.source.name}: {first.reason})"
    yield Finished(summary)

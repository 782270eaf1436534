"""LibraryService: the one object the TUI and the CLI use for the model library.

Long jobs (scan, hash, import, duplicates, dedupe) are async iterators of events; their
results land in the lists or summaries the caller passes in. Quick queries are plain coroutines.
The main root is `library/models`; `settings.library_roots` adds more (other disks). Imports
always go to the main root.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from comfy_tui.errors import ComfyTuiError, NotFoundError, ValidationError
from comfy_tui.events import Event, Finished, LogLine
from comfy_tui.paths import DataPaths
from comfy_tui.services.library import mapping
from comfy_tui.services.library.folder_types import is_model_file
from comfy_tui.services.library.library_lock import LibraryLock, clear_staging
from comfy_tui.services.library.roots import library_roots
from comfy_tui.services.library.scan import ScanSummary, scan_library
from comfy_tui.services.library.threads import iterate_in_thread, run_blocking
from comfy_tui.settings import Settings
from comfy_tui.store import models_index as index
from comfy_tui.store.db import connect
from comfy_tui.store.models_index import FolderStat, ModelRecord
from comfy_tui.store.version_records import list_records, load_record

if TYPE_CHECKING:  # what one action uses is imported there: a scan loads none of it
    from comfy_tui.services.downloads.data import DownloadMeta
    from comfy_tui.services.library import dedupe, symlinks, trash
    from comfy_tui.services.library.importer import ImportMode, ImportOutcome
    from comfy_tui.store.civitai_index import CivitaiInfo

__all__ = ["LibraryService"]

log = logging.getLogger(__name__)


class LibraryService:
    def __init__(
        self, settings: Settings, paths: DataPaths, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.settings = settings
        self.paths = paths
        self.clock = clock

    # --- places ----------------------------------------------------------------------------
    @property
    def db_path(self) -> Path:
        return self.paths.library_db()

    def main_root(self) -> Path:
        return self.paths.library_models()

    def roots(self) -> list[Path]:
        """The main library root first, then the extra roots (see roots.py)."""
        return library_roots(self.settings, self.paths)

    def _trash_for(self, root: str) -> Path:
        if Path(root) == self.main_root():
            return self.paths.library_trash()
        return Path(root, ".trash")

    # --- queries ---------------------------------------------------------------------------
    async def list_models(
        self, query: str | None = None, folder: str | None = None, limit: int | None = None
    ) -> list[ModelRecord]:
        """Models in (folder, path) order; `query` is searched as you type (see search.py)."""
        from comfy_tui.services.library.search import search_filter

        where, params = search_filter(query) or ("", [])
        async with connect(self.db_path) as db:
            return await index.select_models(
                db, folder=folder, where=where, params=params, limit=limit
            )

    async def folders(self) -> list[FolderStat]:
        async with connect(self.db_path) as db:
            return await index.folder_stats(db)

    async def get(self, model_id: int) -> ModelRecord | None:
        async with connect(self.db_path) as db:
            return await index.get_model(db, model_id)

    async def find(self, ref: str) -> ModelRecord:
        """A model by path (absolute, or relative to a root such as `loras/x.safetensors`) or by
        file name when that is unique."""
        if not ref or "\x00" in ref:
            raise ValidationError("give a model as folder/name, a path, or a file name")
        async with connect(self.db_path) as db:
            wanted: list[tuple[str, str]] = []
            real = os.path.realpath(ref) if os.path.isabs(ref) or os.path.exists(ref) else None
            for root in self.roots():
                if real is not None:
                    root_real = os.path.realpath(root)
                    if real.startswith(root_real + os.sep):
                        rel = Path(os.path.relpath(real, root_real)).as_posix()
                        wanted.append((str(root), rel))
                wanted.append((str(root), ref.strip("/")))
            for root_text, rel in wanted:
                found = await index.select_models(
                    db, where="root = ? AND relpath = ?", params=(root_text, rel)
                )
                if found:
                    return found[0]
            named = []
            if "/" not in ref:
                named = await index.select_models(db, where="name = ?", params=(ref,))
        if len(named) == 1:
            return named[0]
        if len(named) > 1:
            raise ValidationError(
                f"{len(named)} models are named {ref!r}; give folder/name instead"
            )
        raise NotFoundError(f"no model {ref!r} in the library (try 'comfy-tui models list')")

    # --- CivitAI ---------------------------------------------------------------------------
    async def civitai(self, record: ModelRecord) -> CivitaiInfo | None:
        """What CivitAI said about this file's content before; None: never asked (or the file
        is not hashed)."""
        from comfy_tui.store.civitai_index import get_civitai

        if not record.sha256:
            return None
        async with connect(self.db_path) as db:
            return await get_civitai(db, record.sha256)

    async def civitai_known(self) -> dict[str, CivitaiInfo]:
        """sha256 → what CivitAI said, for every file it knows (asked before)."""
        from comfy_tui.store.civitai_index import found_civitai

        async with connect(self.db_path) as db:
            return await found_civitai(db)

    async def lookup_civitai(self, record: ModelRecord) -> CivitaiInfo:
        """Ask CivitAI by the file's sha256 now and keep the answer (a network request: only
        when the user asked for it). The file must be hashed first."""
        from comfy_tui.services.downloads.civitai import lookup_by_hash
        from comfy_tui.store.civitai_index import put_civitai

        if not record.sha256:
            raise ValidationError(f"{record.relpath} is not hashed yet: comfy-tui models hash")
        info = await lookup_by_hash(
            record.sha256,
            api_base=self.settings.civitai_api,
            token=self.settings.civitai_token,
            now=self.clock(),
        )
        async with connect(self.db_path) as db:
            await put_civitai(db, info)
            await db.commit()
        return info

    async def installed_versions(self) -> list[tuple[str, Path]]:
        """(tag, directory) of every installed version; an unreadable record is skipped."""
        try:
            records = await asyncio.to_thread(list_records, self.paths)
        except ComfyTuiError:
            return []
        return [(r.tag, Path(r.path)) for r in records]

    # --- jobs ------------------------------------------------------------------------------
    async def scan(self, summary: ScanSummary | None = None) -> AsyncIterator[Event]:
        """Make the index match the files (scan.py: `scan_library`, in a worker thread)."""
        summary = summary if summary is not None else ScanSummary()
        run = partial(scan_library, self.paths, self.roots(), clock=self.clock, summary=summary)
        async for event in iterate_in_thread(lambda cancel: run(cancel=cancel)):
            yield event

    async def hash_models(self, ids: Sequence[int] | None = None) -> AsyncIterator[Event]:
        """Hash the given models (all without a sha256 when `ids` is None)."""
        from comfy_tui.services.library.hashing import hash_with_progress

        async with connect(self.db_path) as db:
            if ids is None:
                rows = await index.select_models(db, where="sha256 IS NULL")
            else:
                marks = ", ".join("?" for _ in ids)
                rows = await index.select_models(db, where=f"id IN ({marks})", params=list(ids))
            total = sum(r.size for r in rows)
            done = hashed = 0
            for row in rows:
                try:
                    st = await asyncio.to_thread(os.stat, row.path)
                except OSError:
                    st = None
                if st is None or (st.st_size, st.st_mtime_ns) != (row.size, row.mtime_ns):
                    yield LogLine(f"{row.relpath}: changed since the last scan; skipped", "hash")
                    done += row.size
                    continue
                result: list[str] = []
                async for event in hash_with_progress(row.path, "hash", done, total, result):
                    yield event
                done += row.size
                if await index.set_hash(db, row.id or 0, result[0], row.size, row.mtime_ns):
                    await db.commit()
                    hashed += 1
        yield Finished(f"{hashed} of {len(rows)} hashed")

    async def import_paths(
        self,
        sources: Sequence[Path],
        *,
        folder: str | None = None,
        mode: ImportMode = "auto",
        outcomes: list[ImportOutcome] | None = None,
    ) -> AsyncIterator[Event]:
        """Import files and folders into the main root (see importer.py for the guarantees).
        Files of a folder that cannot be placed are skipped: outcomes with action "skipped"."""
        from comfy_tui.services.library.importer import import_planned
        from comfy_tui.services.library.plan import plan_import

        outcomes = outcomes if outcomes is not None else []
        root = self.main_root()
        plan = await run_blocking(
            lambda _cancel: plan_import(
                [Path(s).expanduser().absolute() for s in sources], folder, root, self.roots()
            )
        )
        lock = LibraryLock(self.paths.library_lock())
        try:
            async for waiting in lock.acquire("import"):
                yield waiting
            staging = self.paths.library_staging()
            await asyncio.to_thread(clear_staging, staging)
            async for event in import_planned(
                self.db_path,
                root,
                staging,
                plan.files,
                mode=mode,
                clock=self.clock,
                outcomes=outcomes,
                skipped=plan.skipped,
            ):
                yield event
        finally:
            lock.release()

    async def find_duplicates(self, out: list[dedupe.DuplicateReport]) -> AsyncIterator[Event]:
        """Hash what must be compared and append a DuplicateReport to `out`."""
        from comfy_tui.services.library import dedupe

        versions = await self.installed_versions()
        async for event in dedupe.find_duplicates(self.db_path, versions, out):
            yield event

    async def apply_dedupe(self, report: dedupe.DuplicateReport) -> AsyncIterator[Event]:
        from comfy_tui.services.library import dedupe

        lock = LibraryLock(self.paths.library_lock())
        try:
            async for waiting in lock.acquire("dedupe"):
                yield waiting
            async for event in dedupe.apply_links(self.db_path, report):
                yield event
        finally:
            lock.release()

    async def index_download(self, path: Path, meta: DownloadMeta) -> ModelRecord | None:
        """Add or refresh the row of a file a download just placed (`DownloadQueue.on_complete`):
        the sha256 computed while streaming (not re-hashed), the header facts, and the source.

        Never raises for a finished download: a file outside the roots or not a model file is
        left to the scan, and a failure to index is logged (the next scan adds the file)."""
        try:
            return await self._index_download(path, meta)
        except (OSError, sqlite3.Error, ComfyTuiError) as exc:
            log.warning("could not index the download %s: %s", path.name, exc)
            return None

    async def _index_download(self, path: Path, meta: DownloadMeta) -> ModelRecord | None:
        from comfy_tui.services.library.downloaded import locate, source_of, stat_found
        from comfy_tui.services.library.headers import read_header
        from comfy_tui.services.library.scan import record_for

        where = await asyncio.to_thread(locate, path, self.roots())
        if where is None or not is_model_file(where[1]):
            log.info("download %s is not a model file of the library; not indexed", path.name)
            return None
        root, relpath = where
        found = await asyncio.to_thread(stat_found, path, relpath)
        info = await asyncio.to_thread(read_header, path)
        source = source_of(meta)
        record = record_for(
            root,
            found,
            info,
            self.clock(),
            sha256=meta.sha256 if found.size == meta.size else None,
            source_url=source.url,
            source_repo=source.repo,
            source_revision=source.revision,
            source_commit=source.commit,
        )
        async with connect(self.db_path) as db:
            await index.upsert_models(db, [record])
            await db.commit()
            rows = await index.select_models(
                db, where="root = ? AND relpath = ?", params=(str(root), relpath)
            )
        return rows[0] if rows else None

    # --- removal ---------------------------------------------------------------------------
    async def remove(self, record: ModelRecord) -> trash.TrashEntry:
        """Move a model to the trash and drop it from the index."""
        from comfy_tui.services.library import trash

        lock = LibraryLock(self.paths.library_lock())
        try:
            async for _ in lock.acquire("remove"):
                pass
            place, now = self._trash_for(record.root), self.clock()
            entry = await asyncio.to_thread(trash.move_to_trash, record, place, now)
            keep = self.settings.trash_keep_days
            await asyncio.to_thread(trash.prune_trash, place, keep, now)
            async with connect(self.db_path) as db:
                await index.delete_ids(db, [record.id or 0])
                await db.commit()
            return entry
        finally:
            lock.release()

    async def trash(self) -> list[trash.TrashEntry]:
        from comfy_tui.services.library import trash

        trashes = {self._trash_for(str(r)) for r in self.roots()}
        found: list[trash.TrashEntry] = []
        for place in sorted(trashes):
            found.extend(await asyncio.to_thread(trash.list_trash, place))
        return sorted(found, key=lambda e: (-e.removed_at, e.id))

    async def restore(self, entry_id: str) -> str:
        """Put a trashed model back and index it; returns its path inside its root."""
        from comfy_tui.services.library import trash

        entry = next((e for e in await self.trash() if e.id == entry_id), None)
        if entry is None:
            raise NotFoundError(f"nothing in the trash with id {entry_id!r}")
        lock = LibraryLock(self.paths.library_lock())
        try:
            async for _ in lock.acquire("restore"):
                pass
            relpath = await asyncio.to_thread(trash.restore_entry, entry)
        finally:
            lock.release()
        async for _ in self.scan():
            pass
        return relpath

    # --- versions --------------------------------------------------------------------------
    async def link_into_version(self, version_dir: Path) -> symlinks.LinkReport:
        """Symlink mode: link every library file into `version_dir/models/` (relative links,
        broken ones repaired, real files left alone)."""
        from comfy_tui.services.library import symlinks

        order = {str(r): i for i, r in enumerate(self.roots())}
        records = sorted(await self.list_models(), key=lambda m: order.get(m.root, len(order)))
        files = [(m.relpath, m.path) for m in records]
        return await asyncio.to_thread(
            symlinks.sync_symlinks, version_dir / "models", files, self.roots()
        )

    async def map_into_version(self, tag: str) -> Path | None:
        """Make the library visible to version `tag` before a launch, as the `model_mapping`
        setting says: the generated YAML (its path is returned, for
        `--extra-model-paths-config`), or relative symlinks in the version's `models/`. An
        adopted version always gets the YAML: its folder is not comfy-tui's to write in."""
        record = await asyncio.to_thread(load_record, self.paths, tag)
        if record is not None and record.adopted:  # nothing is written into an adopted folder
            return await self.write_extra_model_paths(tag)
        if self.settings.model_mapping == "symlinks":
            report = await self.link_into_version(self.paths.version_dir(tag))
            log.info(
                "linked the library into %s: %d created, %d repaired, %d removed, %d skipped",
                tag,
                report.created,
                report.repaired,
                report.removed,
                len(report.skipped),
            )
            return None
        return await self.write_extra_model_paths(tag)

    async def write_extra_model_paths(self, tag: str) -> Path:
        """Write the YAML that points version `tag` at the library; the launcher passes the
        returned path with `--extra-model-paths-config`."""
        return await asyncio.to_thread(
            partial(mapping.write_extra_model_paths, self.paths, tag, self.roots())
        )

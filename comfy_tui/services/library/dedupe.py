"""Duplicates: the same sha256 in several files, across the library and versions' own `models/`.

Only files that share a size with another file are hashed (hashes of files outside the index
are cached by device + inode). Files that are already hard links of each other count once.
Applying replaces each extra copy by a hard link to a kept file on the same filesystem (the
library's copy when there is one) through a temporary link and an atomic rename, so every
name keeps working and the last copy is never deleted. Copies on a filesystem where no other
copy lives cannot be linked; the report says so.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from comfy_tui.core.units import format_bytes, plural
from comfy_tui.events import Event, Finished, LogLine
from comfy_tui.services.library.hashing import hash_with_progress
from comfy_tui.services.library.walk import walk_root
from comfy_tui.store import models_index as index
from comfy_tui.store.atomic import fsync_dir
from comfy_tui.store.db import connect

__all__ = [
    "DupFile",
    "DuplicateGroup",
    "DuplicateReport",
    "apply_links",
    "find_duplicates",
]


@dataclass(frozen=True)
class DupFile:
    path: str
    where: str  # "library" or "version v0.3.77"
    size: int
    mtime_ns: int
    dev: int
    ino: int
    model_id: int | None = None
    relpath: str = ""  # inside its library root or its version's models/ folder

    @property
    def label(self) -> str:
        return f"{self.where}: {self.relpath}" if self.relpath else self.path

    @property
    def identity(self) -> tuple[int, int]:
        return (self.dev, self.ino)


@dataclass(frozen=True)
class DuplicateGroup:
    sha256: str
    size: int
    files: tuple[DupFile, ...]  # library files first

    def links(self) -> list[tuple[DupFile, DupFile]]:
        """(kept, copy) pairs: each copy becomes a hard link of the kept file on its device."""
        pairs: list[tuple[DupFile, DupFile]] = []
        for same_dev in _by_device(self.files).values():
            keeper = same_dev[0]
            pairs.extend((keeper, f) for f in same_dev[1:] if f.identity != keeper.identity)
        return pairs

    @property
    def reclaimable(self) -> int:
        return self.size * len({f.identity for _, f in self.links()})

    def stranded(self) -> list[DupFile]:
        """Copies alone on a filesystem without the library's copy: they cannot be linked."""
        library_devs = {f.dev for f in self.files if f.where == "library"}
        return [f for f in self.files if library_devs and f.dev not in library_devs]


def _by_device(files: Sequence[DupFile]) -> dict[int, list[DupFile]]:
    out: dict[int, list[DupFile]] = defaultdict(list)
    for f in files:
        out[f.dev].append(f)
    return out


@dataclass(frozen=True)
class DuplicateReport:
    groups: tuple[DuplicateGroup, ...]
    files_checked: int = 0

    @property
    def reclaimable(self) -> int:
        return sum(g.reclaimable for g in self.groups)

    @property
    def stranded(self) -> int:
        return sum(g.size * len(g.stranded()) for g in self.groups)


def _version_files(version_dirs: Sequence[tuple[str, Path]]) -> list[DupFile]:
    files = []
    for tag, directory in version_dirs:
        models = directory / "models"
        if not models.is_dir():
            continue
        for found in walk_root(models).files:
            path = str(models.joinpath(*found.relpath.split("/")))
            files.append(
                DupFile(
                    path,
                    f"version {tag}",
                    found.size,
                    found.mtime_ns,
                    found.dev,
                    found.ino,
                    relpath=found.relpath,
                )
            )
    return files


async def find_duplicates(
    db_path: Path, version_dirs: Sequence[tuple[str, Path]], out: list[DuplicateReport]
) -> AsyncIterator[Event]:
    """Hash what must be compared, then append the report to `out`."""
    async with connect(db_path) as db:
        records = await index.select_models(db)
        library = [
            DupFile(str(r.path), "library", r.size, r.mtime_ns, r.dev, r.ino, r.id, r.relpath)
            for r in records
        ]
        known = {str(r.path): r.sha256 for r in records if r.sha256}
        others = await asyncio.to_thread(_version_files, version_dirs)
        by_size: dict[int, list[DupFile]] = defaultdict(list)
        for f in [*library, *others]:
            by_size[f.size].append(f)
        candidates = [
            f
            for group in by_size.values()
            if len({f.identity for f in group}) > 1 and group[0].size > 0
            for f in group
        ]
        hashes: dict[tuple[int, int], str] = {}
        for f in candidates:
            sha = known.get(f.path) or await index.cached_hash(db, f.dev, f.ino, f.size, f.mtime_ns)
            if sha:
                hashes[f.identity] = sha
        todo = {f.identity: f for f in candidates if f.identity not in hashes}
        total = sum(f.size for f in todo.values())
        done = 0
        for f in todo.values():
            result: list[str] = []
            try:
                async for event in hash_with_progress(Path(f.path), "hash", done, total, result):
                    yield event
            except OSError as exc:
                yield LogLine(f"{f.path}: cannot hash ({exc.strerror or exc})", source="dedupe")
                continue
            finally:
                done += f.size
            hashes[f.identity] = result[0]
            if f.model_id is not None:
                await index.set_hash(db, f.model_id, result[0], f.size, f.mtime_ns)
            else:
                await index.put_cached_hash(db, f.dev, f.ino, f.size, f.mtime_ns, result[0])
            await db.commit()
    by_hash: dict[str, list[DupFile]] = defaultdict(list)
    for f in candidates:
        if f.identity in hashes:
            by_hash[hashes[f.identity]].append(f)
    groups = [
        DuplicateGroup(sha, files[0].size, tuple(sorted(files, key=_keep_order)))
        for sha, files in sorted(by_hash.items())
        if len({f.identity for f in files}) > 1
    ]
    report = DuplicateReport(tuple(groups), len(candidates))
    out.append(report)
    groups_text = plural(len(groups), "duplicate group")
    yield Finished(f"{groups_text}, {format_bytes(report.reclaimable)} reclaimable")


def _keep_order(f: DupFile) -> tuple[bool, str]:
    return (f.where != "library", f.path)


def _unchanged(f: DupFile) -> bool:
    try:
        st = os.stat(f.path, follow_symlinks=False)
    except OSError:
        return False
    return (st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino) == (f.size, f.mtime_ns, f.dev, f.ino)


def link_over(keeper: DupFile, copy: DupFile) -> str | None:
    """Replace `copy` by a hard link of `keeper`; None when done, else why not (blocking)."""
    if not (_unchanged(keeper) and _unchanged(copy)):
        return "changed since it was hashed; run dedupe again"
    target = Path(copy.path)
    tmp = target.with_name(f".{target.name}.{secrets.token_hex(6)}.dedupe")
    try:
        os.link(keeper.path, tmp)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        return f"cannot link ({exc.strerror or exc})"
    fsync_dir(target.parent)
    return None


async def apply_links(db_path: Path, report: DuplicateReport) -> AsyncIterator[Event]:
    """Replace copies by hard links (the caller holds the library lock)."""
    reclaimed: set[tuple[int, int]] = set()
    freed = 0
    async with connect(db_path) as db:
        for group in report.groups:
            for keeper, copy in group.links():
                why = await asyncio.to_thread(link_over, keeper, copy)
                if why:
                    yield LogLine(f"{copy.path}: {why}", source="dedupe")
                    continue
                if copy.identity not in reclaimed:
                    reclaimed.add(copy.identity)
                    freed += group.size
                yield LogLine(f"linked {copy.path} → {keeper.path}", source="dedupe")
                if copy.model_id is not None:
                    await index.update_identity(
                        db, copy.model_id, keeper.dev, keeper.ino, keeper.mtime_ns
                    )
                    await index.set_hash(
                        db, copy.model_id, group.sha256, keeper.size, keeper.mtime_ns
                    )
                else:
                    await index.put_cached_hash(
                        db, keeper.dev, keeper.ino, keeper.size, keeper.mtime_ns, group.sha256
                    )
                await db.commit()
            for f in group.stranded():
                yield LogLine(
                    f"{f.path}: on another filesystem than the library's copy; "
                    "a hard link is impossible there",
                    source="dedupe",
                )
    yield Finished(f"{format_bytes(freed)} reclaimed")

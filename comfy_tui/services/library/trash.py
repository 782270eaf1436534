"""Removal moves a model to the trash (restorable), never deletes it.

Each removal is a folder `<trash>/<id>/` holding the file and `entry.json` (where it came from).
The manifest is written first, then the file is renamed in (same filesystem: the main library's
trash is `library/.trash/`, an extra root's is `<root>/.trash/`). Restoring renames it back,
next to a same-named file if one appeared meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

from comfy_tui.core.retention import expired
from comfy_tui.errors import ComfyTuiError, NotFoundError
from comfy_tui.services.library.importer import place_file
from comfy_tui.store.atomic import fsync_dir
from comfy_tui.store.jsonfile import read_json, write_json
from comfy_tui.store.models_index import ModelRecord

__all__ = [
    "TrashEntry",
    "delete_entry",
    "list_trash",
    "move_to_trash",
    "prune_trash",
    "restore_entry",
]

MANIFEST = "entry.json"


@dataclass(frozen=True)
class TrashEntry:
    id: str
    root: str
    relpath: str
    sha256: str | None
    size: int
    removed_at: float
    file: Path  # the trashed file

    @property
    def name(self) -> str:
        return self.relpath.rsplit("/", 1)[-1]


def move_to_trash(record: ModelRecord, trash: Path, now: float) -> TrashEntry:
    """Move the record's file into `trash` (blocking). The caller drops the index row."""
    source = record.path
    if not source.is_file():
        raise NotFoundError(f"{record.relpath}: the file is gone; run 'comfy-tui models scan'")
    entry_id = f"{int(now)}-{secrets.token_hex(4)}"
    folder = trash / entry_id
    folder.mkdir(parents=True, mode=0o700)
    document = {
        "root": record.root,
        "relpath": record.relpath,
        "sha256": record.sha256,
        "size": record.size,
        "removed_at": now,
    }
    write_json(folder / MANIFEST, document)
    target = folder / record.name
    try:
        os.rename(source, target)
    except OSError:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    fsync_dir(source.parent)
    fsync_dir(folder)
    return TrashEntry(
        entry_id, record.root, record.relpath, record.sha256, record.size, now, target
    )


def list_trash(trash: Path) -> list[TrashEntry]:
    """Entries whose file is present, newest first (blocking)."""
    entries: list[TrashEntry] = []
    if not trash.is_dir():
        return entries
    for folder in trash.iterdir():
        manifest = folder / MANIFEST
        try:
            doc = read_json(manifest)
        except (OSError, ComfyTuiError):  # a damaged entry is skipped
            continue
        relpath = str(doc.get("relpath", ""))
        file = folder / relpath.rsplit("/", 1)[-1]
        if relpath and file.is_file():
            entries.append(
                TrashEntry(
                    folder.name,
                    str(doc.get("root", "")),
                    relpath,
                    doc.get("sha256"),
                    int(doc.get("size", 0)),
                    float(doc.get("removed_at", 0.0)),
                    file,
                )
            )
    return sorted(entries, key=lambda e: (-e.removed_at, e.id))


def restore_entry(entry: TrashEntry) -> str:
    """Put the file back (a clash gets `name-N.ext`); returns its relpath. Blocking."""
    relpath, existed = place_file(entry.file, Path(entry.root), entry.relpath, entry.sha256 or "")
    if existed:
        entry.file.unlink()
    with contextlib.suppress(OSError):
        shutil.rmtree(entry.file.parent)
    return relpath


def delete_entry(entry: TrashEntry) -> None:
    """Delete a trashed model for good (blocking)."""
    shutil.rmtree(entry.file.parent, ignore_errors=True)


def prune_trash(trash: Path, keep_days: int, now: float) -> int:
    """Delete models trashed more than `keep_days` ago (0 keeps all); how many. Blocking."""
    old = expired(list_trash(trash), keep_days, now)
    for entry in old:
        delete_entry(entry)
    return len(old)

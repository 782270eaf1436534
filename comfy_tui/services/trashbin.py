"""The data directory's trash: what removing a version or a shared node puts aside.

Removing a version puts its own `user/` (workflows, settings), `output/` and `input/` folders
aside; removing a shared node puts its checkout and its record aside. Each removal is a folder
`trash/<id>/` holding those folders and `entry.json` (written first, so a crash midway leaves
an entry that lists only what arrived). Everything is a rename inside the data directory: no
copy, no extra disk. Models removed from the library have their own trash beside the library
(`services/library/trash.py`); `services/trash_service.py` shows both as one.

Restoring a version's folders merges them back into the installed version: a file that exists
there again (ComfyUI wrote new settings) is kept, and the trashed one is put beside it as
`name (restored).ext`. Everything here is blocking file work: call it in a thread.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from comfy_tui.core.retention import expired
from comfy_tui.errors import ComfyTuiError, NotFoundError, ValidationError
from comfy_tui.paths import DataPaths
from comfy_tui.services.staging import du_bytes
from comfy_tui.store import node_records, version_records
from comfy_tui.store.atomic import fsync_dir
from comfy_tui.store.jsonfile import read_json, write_json

__all__ = [
    "VERSION_PARTS",
    "BinEntry",
    "delete_entry",
    "list_entries",
    "new_entry_id",
    "prune",
    "put_aside",
    "put_node_aside",
    "put_version_aside",
    "restore_entry",
]

MANIFEST = "entry.json"
VERSION_PARTS = ("user", "output", "input")
"""A version's own folders that hold the user's work (the rest is a checkout and a venv)."""


def new_entry_id(now: float) -> str:
    return f"{int(now)}-{os.urandom(4).hex()}"


@dataclass(frozen=True)
class BinEntry:
    id: str
    kind: str  # "version" or "node"
    name: str  # the version's tag or the node's name
    parts: tuple[str, ...]  # the folders present in the entry
    size: int
    removed_at: float
    folder: Path
    record: Mapping[str, Any] = field(default_factory=dict)  # a node's record


def _non_empty_dir(path: Path) -> bool:
    try:
        with os.scandir(path) as entries:
            return any(True for _ in entries)
    except (FileNotFoundError, NotADirectoryError):
        return False


def put_aside(
    paths: DataPaths,
    kind: str,
    name: str,
    parts: Mapping[str, Path],
    now: float,
    record: Mapping[str, Any] | None = None,
) -> BinEntry | None:
    """Move the non-empty folders of `parts` (name -> folder) into a new entry; None when
    there is nothing to keep. The folders must be on the data directory's filesystem."""
    present = {part: path for part, path in parts.items() if _non_empty_dir(path)}
    if not present:
        return None
    entry_id = new_entry_id(now)
    folder = paths.trash_dir() / entry_id
    folder.mkdir(mode=0o700)
    document = {
        "kind": kind,
        "name": name,
        "parts": sorted(present),
        "removed_at": now,
        "record": dict(record or {}),
    }
    write_json(folder / MANIFEST, document)
    for part, path in present.items():
        os.rename(path, folder / part)
        fsync_dir(path.parent)
    fsync_dir(folder)
    size = sum(du_bytes(*(folder / p for p in present)))
    write_json(folder / MANIFEST, {**document, "size": size})
    return BinEntry(entry_id, kind, name, tuple(sorted(present)), size, now, folder, record or {})


def put_version_aside(paths: DataPaths, tag: str, version_dir: Path, now: float) -> BinEntry | None:
    """A version's user/, output/ and input/ (call before its folder is deleted)."""
    return put_aside(paths, "version", tag, {p: version_dir / p for p in VERSION_PARTS}, now)


def put_node_aside(
    paths: DataPaths, record: node_records.NodeRecord | None, name: str, checkout: Path, now: float
) -> BinEntry | None:
    """A shared node's checkout, with its record (read before it was deleted)."""
    document = record.to_json() if record else None
    return put_aside(paths, "node", name, {"checkout": checkout}, now, document)


def list_entries(paths: DataPaths) -> list[BinEntry]:
    """Every entry that still holds something, newest first; damaged entries are skipped."""
    root = paths.root / "trash"
    if not root.is_dir():
        return []
    found: list[BinEntry] = []
    for folder in root.iterdir():
        try:
            doc = read_json(folder / MANIFEST)
        except (OSError, ComfyTuiError):
            continue
        parts = tuple(p for p in doc.get("parts", []) if (folder / str(p)).exists())
        if not parts:
            continue
        found.append(
            BinEntry(
                folder.name,
                str(doc.get("kind", "")),
                str(doc.get("name", "")),
                parts,
                int(doc.get("size", 0)),
                float(doc.get("removed_at", 0.0)),
                folder,
                dict(doc.get("record") or {}),
            )
        )
    return sorted(found, key=lambda e: (-e.removed_at, e.id))


def delete_entry(entry: BinEntry) -> None:
    import shutil  # bz2, lzma: not at every start

    shutil.rmtree(entry.folder, ignore_errors=True)


def prune(paths: DataPaths, keep_days: int, now: float) -> int:
    """Delete entries removed more than `keep_days` ago (0 keeps all); how many."""
    old = expired(list_entries(paths), keep_days, now)
    for entry in old:
        delete_entry(entry)
    return len(old)


def _beside(target: Path) -> Path:
    stem, suffix = (target.stem, target.suffix) if target.suffix else (target.name, "")
    for n in range(1, 1000):
        label = " (restored)" if n == 1 else f" (restored {n})"
        candidate = target.with_name(f"{stem}{label}{suffix}")
        if not candidate.exists() and not candidate.is_symlink():
            return candidate
    raise ValidationError(f"{target}: too many restored copies beside it; tidy them first")


def _merge(source: Path, target: Path) -> int:
    """Move the files of `source` into `target`; a name taken there gets `(restored)`.
    Returns how many files were put beside an existing one."""
    if not target.exists() and not target.is_symlink():
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(source, target)
        return 0
    beside = 0
    for dirpath, dirnames, filenames in os.walk(source):
        rel = Path(dirpath).relative_to(source)
        (target / rel).mkdir(parents=True, exist_ok=True)
        for name in filenames + [d for d in dirnames if Path(dirpath, d).is_symlink()]:
            wanted = target / rel / name
            if wanted.exists() or wanted.is_symlink():
                wanted = _beside(wanted)
                beside += 1
            os.rename(Path(dirpath, name), wanted)
    import shutil

    shutil.rmtree(source, ignore_errors=True)
    return beside


def restore_entry(paths: DataPaths, entry: BinEntry) -> str:
    """Put an entry back; returns one line saying where it went."""
    if entry.kind == "version":
        if version_records.load_record(paths, entry.name) is None:
            raise ValidationError(
                f"{entry.name} is not installed: install it again (comfy-tui install "
                f"{entry.name}), then restore {entry.id}"
            )
        version_dir = paths.version_dir(entry.name)
        beside = sum(_merge(entry.folder / p, version_dir / p) for p in entry.parts)
        delete_entry(entry)
        note = (
            f"; {beside} file(s) that exist again were put beside as '(restored)'" if beside else ""
        )
        return f"restored {', '.join(entry.parts)} of {entry.name} into {version_dir}{note}"
    if entry.kind == "node":
        checkout = paths.node_dir(entry.name)
        if checkout.exists() or node_records.load_node(paths, entry.name) is not None:
            raise ValidationError(
                f"a node named {entry.name} exists again: remove it first "
                f"(comfy-tui nodes rm {entry.name}), then restore {entry.id}"
            )
        os.rename(entry.folder / "checkout", checkout)
        if entry.record:
            node_records.save_node(
                paths, node_records.NodeRecord.from_json(dict(entry.record), entry.folder)
            )
        delete_entry(entry)
        return (
            f"restored the node {entry.name} (enable it again: comfy-tui nodes enable "
            f"{entry.name} TAG)"
        )
    raise NotFoundError(f"trash entry {entry.id} is of an unknown kind {entry.kind!r}")

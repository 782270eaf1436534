"""The versions folder's temporary places: staging dirs, removal dirs, and cleaning them up.

An install builds in `versions/.staging-<tag>-<hex>/` and is renamed to `versions/<tag>/` when
done; a removal renames `versions/<tag>/` to `versions/.removing-<tag>-<hex>/` and deletes that.
A crash (even ``kill -9``) can leave either behind. `remove_stale` deletes them, but only for
tags whose install lock is free: an install running in another process keeps its staging dir.
Everything here is synchronous file work: call it through `asyncio.to_thread`.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from comfy_tui.paths import DataPaths
from comfy_tui.services.flock import try_lock

log = logging.getLogger(__name__)

__all__ = [
    "du_bytes",
    "new_removing_dir",
    "new_staging_dir",
    "relink_scripts",
    "remove_stale",
    "remove_tree",
]

_TEMP = re.compile(r"\.(?:staging|removing)-(?P<tag>.+)-[0-9a-f]{8}")
_SCRIPT_MAX = 1024 * 1024


def new_staging_dir(paths: DataPaths, tag: str) -> Path:
    path = paths.versions_dir() / f".staging-{tag}-{os.urandom(4).hex()}"
    path.mkdir(mode=0o755)
    return path


def new_removing_dir(paths: DataPaths, tag: str) -> Path:
    return paths.versions_dir() / f".removing-{tag}-{os.urandom(4).hex()}"


def remove_tree(path: Path) -> None:
    """Delete a folder tree; one that is already gone is fine."""
    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.exists():
        import shutil  # bz2, lzma: not at every start

        shutil.rmtree(path, ignore_errors=True)
        if path.exists():  # something was read-only or raced us: try once more, loudly
            shutil.rmtree(path)


def remove_stale(paths: DataPaths, held: str | None = None) -> list[Path]:
    """Delete staging/removal dirs whose install is not running; returns what was removed.

    `held` is a tag whose install lock the caller holds: its leftovers are stale too.
    """
    removed: list[Path] = []
    versions = paths.versions_dir()
    for entry in sorted(versions.iterdir()):
        match = _TEMP.fullmatch(entry.name)
        if not match or not entry.is_dir():
            continue
        tag = match.group("tag")
        fd = None if tag == held else try_lock(paths.install_lock(tag))
        if tag != held and fd is None:
            continue  # another process is installing or removing this tag right now
        try:
            log.info("removing stale %s", entry)
            remove_tree(entry)
            removed.append(entry)
        finally:
            if fd is not None:
                os.close(fd)
    return removed


def relink_scripts(venv: Path, old: Path, new: Path) -> int:
    """After moving a pip-made venv, point its scripts (shebangs, activate) at the new place."""
    changed = 0
    bin_dir = venv / "bin"
    if not bin_dir.is_dir():
        return 0
    old_b, new_b = str(old).encode(), str(new).encode()
    for script in bin_dir.iterdir():
        if script.is_symlink() or not script.is_file() or script.stat().st_size > _SCRIPT_MAX:
            continue
        data = script.read_bytes()
        if b"\0" in data or old_b not in data:
            continue
        mode = script.stat().st_mode
        tmp = script.with_name(f".{script.name}.tmp")
        tmp.write_bytes(data.replace(old_b, new_b))
        os.chmod(tmp, mode)
        os.replace(tmp, script)
        changed += 1
    return changed


def du_bytes(*roots: Path) -> list[int]:
    """Disk use of each root like `du`: allocated blocks, every inode counted once across all
    roots in order (a hardlink shared with an earlier root costs the later one nothing)."""
    seen: set[tuple[int, int]] = set()
    sizes: list[int] = []
    for root in roots:
        total = 0
        for dirpath, _dirs, filenames in os.walk(root, followlinks=False):
            for path in [dirpath, *(os.path.join(dirpath, f) for f in filenames)]:
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                key = (st.st_dev, st.st_ino)
                if key not in seen:
                    seen.add(key)
                    total += st.st_blocks * 512
        sizes.append(total)
    return sizes

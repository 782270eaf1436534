"""Disk that adds up: what each installed version holds alone, what it shares, and the total.

uv hardlinks a venv's files from its cache, so most of a version is shared: with its other
versions and with the cache. Sizes are allocated blocks (``st_blocks * 512``), as ``du``
counts them; symlinks are not followed.

- `disk_bytes`: the inodes only this version holds, each counted once, and only when every
  link to it lies inside the version (removing the version frees exactly this much);
- `shared_bytes`: the rest of its size (inodes that also have links elsewhere);
- `total_bytes`: every inode under ``versions/`` once (``du -s versions/``).

Blocking: call `measure_versions` in a thread. `estimate_need` and the size cache
(`metadata/install_sizes.json`: growth of used disk per dependency set) decide the free-space
check before an install.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from comfy_tui.paths import DataPaths
from comfy_tui.store.jsonfile import read_json, update_json

__all__ = [
    "DiskReport",
    "VersionDisk",
    "deps_key",
    "estimate_need",
    "free_bytes",
    "known_growth",
    "measure_versions",
    "own_bytes",
    "remember_growth",
]

FALLBACK_NEED = {"cpu": 3 << 30, "default": 10 << 30}
"""Bytes assumed for a first install of an unknown dependency set (PyPI's CUDA torch is
about 6.5 GB with its cache)."""


@dataclass(frozen=True)
class VersionDisk:
    disk_bytes: int = 0
    shared_bytes: int = 0


@dataclass(frozen=True)
class DiskReport:
    versions: Mapping[str, VersionDisk] = field(default_factory=dict)
    total_bytes: int = 0


def _walk(root: Path) -> Iterable[os.stat_result]:
    """lstat of `root` and everything under it (symlinks not followed)."""
    stack = [str(root)]
    while stack:
        path = stack.pop()
        try:
            st = os.lstat(path)
        except OSError:
            continue
        yield st
        if stat.S_ISDIR(st.st_mode):
            try:
                with os.scandir(path) as entries:
                    stack.extend(entry.path for entry in entries)
            except OSError:
                continue


def _blocks(st: os.stat_result) -> int:
    blocks = getattr(st, "st_blocks", None)
    return st.st_size if blocks is None else int(blocks) * 512


def _measure(folder: Path, seen: set[tuple[int, int]]) -> tuple[VersionDisk, int]:
    """(own, shared) of `folder`, and the bytes of its inodes not in `seen` (added to it)."""
    links: dict[tuple[int, int], list[int]] = {}  # inode -> [links seen here, nlink, size]
    new = 0
    for st in _walk(folder):
        key = (st.st_dev, st.st_ino)
        entry = links.get(key)
        if entry is None:
            nlink = 1 if stat.S_ISDIR(st.st_mode) else st.st_nlink  # a folder is its own
            links[key] = [1, nlink, _blocks(st)]
        else:
            entry[0] += 1
        if key not in seen:
            seen.add(key)
            new += _blocks(st)
    own = shared = 0
    for here, nlink, size in links.values():
        if here >= nlink:
            own += size
        else:
            shared += size
    return VersionDisk(own, shared), new


def own_bytes(folder: Path) -> int:
    """What removing `folder` would free (its inodes with no link outside it)."""
    return _measure(folder, set())[0].disk_bytes


def measure_versions(versions_root: Path, tags: Iterable[str]) -> DiskReport:
    """Walk every folder under `versions_root` once; per-version figures for `tags`."""
    seen: set[tuple[int, int]] = set()
    total = 0
    per_version: dict[str, VersionDisk] = {}
    wanted = set(tags)
    try:
        children = sorted(versions_root.iterdir())
    except OSError:
        return DiskReport({}, 0)
    for child in children:
        figures, new = _measure(child, seen)
        total += new
        if child.name in wanted:
            per_version[child.name] = figures
    with contextlib.suppress(OSError):
        total += _blocks(os.lstat(versions_root))
    return DiskReport(per_version, total)


def free_bytes(path: Path) -> int:
    """Free space for unprivileged writes on the disk holding `path` (or its nearest parent)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    import shutil  # bz2, lzma: not at every start

    return shutil.disk_usage(probe).free


def deps_key(requirements: str, backend: str, python: str, torch_index: str | None) -> str:
    """A short id of a dependency set: the requirements text, torch build, Python, source."""
    import hashlib  # not for `comfy-tui versions`

    text = "\n".join([requirements, backend, python, torch_index or ""])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _sizes_file(paths: DataPaths) -> Path:
    return paths.metadata_dir() / "install_sizes.json"


def remember_growth(paths: DataPaths, key: str, grown: int) -> None:
    """Store how much used disk an install of dependency set `key` added (cold or warm)."""

    def change(data: dict[str, Any]) -> dict[str, Any]:
        data[key] = max(0, int(grown))
        return data

    update_json(_sizes_file(paths), change, default={})


def known_growth(paths: DataPaths, key: str) -> int | None:
    """What an earlier install of dependency set `key` added to the disk, if one did."""
    data = read_json(_sizes_file(paths), default={})
    known = data.get(key) if isinstance(data, dict) else None
    return known if isinstance(known, int) and known > 0 else None


def estimate_need(
    paths: DataPaths, key: str, backend: str, twin_own_bytes: int | None
) -> tuple[int, str]:
    """Bytes a new install of dependency set `key` will take, and where the figure comes from.

    A version of the same set already installed (its uv cache entries exist) → what that
    version holds alone, plus a quarter; else the size cache of an earlier install of the
    set; else the wheel sizes of a resolution of the set (store/size_estimates.py); else a
    fixed guess for the backend.
    """
    if twin_own_bytes is not None:
        return twin_own_bytes + twin_own_bytes // 4, "an installed version of the same packages"
    known = known_growth(paths, key)
    if known is not None:
        return known + known // 10, "an earlier install of the same packages"
    from comfy_tui.store.size_estimates import load_estimate  # tomllib: only for an estimate

    resolved = load_estimate(paths, key)
    if resolved is not None:
        return resolved.disk_bytes, resolved.basis
    guess = FALLBACK_NEED["cpu" if backend == "cpu" else "default"]
    return guess, f"a first {backend} install"

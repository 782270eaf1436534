"""How big an install will be, from what is known: pure (no I/O, no clock).

`SizeEstimate` is a download and a disk figure with where they come from. `from_pylock` sums
the wheel sizes of a resolution (uv's `pylock.toml`: each wheel's `size`, which the index
gives; a local wheel's size comes from the `local_size` callback); the disk figure of a
resolution is `DISK_PER_DOWNLOAD` times the download, since unpacked wheels take about twice
their compressed size (uv's cache and the venv share them through hardlinks, so once).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from comfy_tui.core.units import format_bytes

__all__ = ["DISK_PER_DOWNLOAD", "SizeEstimate", "from_pylock", "size_text"]

DISK_PER_DOWNLOAD = 2
"""Disk taken per byte downloaded (wheels are zip files: unpacked they are about twice as big)."""


@dataclass(frozen=True)
class SizeEstimate:
    """What an install of one dependency set is expected to take."""

    download_bytes: int | None  # None: unknown (only the disk growth of an earlier install)
    disk_bytes: int
    basis: str  # "an earlier install of the same packages", "the wheel sizes of 41 packages"

    def to_json(self) -> dict[str, Any]:
        return {
            "download_bytes": self.download_bytes,
            "disk_bytes": self.disk_bytes,
            "basis": self.basis,
        }

    @classmethod
    def from_json(cls, data: object) -> SizeEstimate | None:
        if not isinstance(data, dict):
            return None
        download, disk = data.get("download_bytes"), data.get("disk_bytes")
        basis = data.get("basis")
        if not isinstance(disk, int) or disk < 0 or not isinstance(basis, str):
            return None
        if download is not None and (not isinstance(download, int) or download < 0):
            return None
        return cls(download, disk, basis)


def _wheel_size(wheel: object, local_size: Callable[[str], int | None]) -> int | None:
    if not isinstance(wheel, dict):
        return None
    size = wheel.get("size")
    if isinstance(size, int) and size >= 0:
        return size
    url = wheel.get("url") or wheel.get("path")
    if isinstance(url, str):
        parts = urllib.parse.urlsplit(url)
        if parts.scheme in ("file", ""):
            return local_size(urllib.parse.unquote(parts.path))
    return None


def from_pylock(text: str, local_size: Callable[[str], int | None]) -> SizeEstimate:
    """The estimate of a resolution written by `uv pip compile --format pylock.toml`.

    A package listing several wheels (one per platform) counts its largest; a package with no
    wheel size known (an sdist, an index that gives no sizes) is named in `basis`.
    Raises ValueError when `text` is not a lock file.
    """
    import tomllib  # here: the first frame imports this module, not the lock files it reads

    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"not a pylock.toml: {exc}") from None
    packages = doc.get("packages")
    if not isinstance(packages, list):
        raise ValueError("not a pylock.toml: no [[packages]]")
    total, unsized = 0, []
    for package in packages:
        if not isinstance(package, dict):
            continue
        wheels = package.get("wheels")
        sizes = [_wheel_size(w, local_size) for w in wheels] if isinstance(wheels, list) else []
        known = [s for s in sizes if s is not None]
        if known:
            total += max(known)
        else:
            unsized.append(str(package.get("name", "?")))
    basis = f"the wheel sizes of {len(packages) - len(unsized)} packages"
    if unsized:
        shown = ", ".join(unsized[:3]) + (" …" if len(unsized) > 3 else "")
        basis += f" ({len(unsized)} without a size: {shown})"
    return SizeEstimate(total, total * DISK_PER_DOWNLOAD, basis)


def size_text(estimate: SizeEstimate | None) -> str:
    """`~6.1 GiB / 3.0 GiB` (disk / download), `~6.1 GiB` when the download is unknown."""
    if estimate is None:
        return ""
    disk = f"~{format_bytes(estimate.disk_bytes)}"
    if estimate.download_bytes is None:
        return disk
    return f"{disk} / {format_bytes(estimate.download_bytes)}"

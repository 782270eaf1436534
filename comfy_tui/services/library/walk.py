"""Walk a library root: every model file with its stat, without opening any file.

Hidden entries (`.trash`, `.staging`, dotfiles) are skipped. A symlink is followed only when its
target, resolved, lies inside the same root; each directory is entered once (by device and
inode), so symlink loops end. Names that are not valid UTF-8 are skipped and reported.
"""

from __future__ import annotations

import os
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path

from comfy_tui.services.library.folder_types import is_model_file
from comfy_tui.services.library.threads import Cancelled

__all__ = ["FoundFile", "WalkResult", "walk_root"]


@dataclass(frozen=True)
class FoundFile:
    relpath: str  # POSIX, relative to the root
    size: int
    mtime_ns: int
    dev: int
    ino: int


@dataclass
class WalkResult:
    files: list[FoundFile] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # one line each: what and why


def _inside(target: str, root_real: str) -> bool:
    return target == root_real or target.startswith(root_real.rstrip(os.sep) + os.sep)


def walk_root(
    root: Path, *, models_only: bool = True, cancel: threading.Event | None = None
) -> WalkResult:
    """Every (model) file under `root`. Blocking: run it in a thread."""
    result = WalkResult()
    root_real = os.path.realpath(root)
    try:
        top = os.stat(root_real)
    except OSError as exc:
        result.skipped.append(f"{root}: cannot read ({exc.strerror or exc})")
        return result
    seen = {(top.st_dev, top.st_ino)}
    stack: list[tuple[str, str]] = [(root_real, "")]
    while stack:
        if cancel is not None and cancel.is_set():
            raise Cancelled(str(root))
        directory, prefix = stack.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError as exc:
            result.skipped.append(f"{prefix or '.'}: cannot list ({exc.strerror or exc})")
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            relpath = prefix + entry.name
            try:
                relpath.encode("utf-8")
            except UnicodeEncodeError:
                result.skipped.append(f"{relpath.encode('utf-8', 'replace').decode()}: not UTF-8")
                continue
            try:
                if entry.is_symlink():
                    if not _inside(os.path.realpath(entry.path), root_real):
                        result.skipped.append(f"{relpath}: symlink leaves the root, not followed")
                        continue
                    st = os.stat(entry.path)
                else:
                    st = entry.stat(follow_symlinks=False)
            except OSError as exc:  # a broken link, a file that vanished
                result.skipped.append(f"{relpath}: {exc.strerror or exc}")
                continue
            if stat.S_ISDIR(st.st_mode):
                key = (st.st_dev, st.st_ino)
                if key in seen:
                    result.skipped.append(f"{relpath}: directory already walked (a loop?)")
                    continue
                seen.add(key)
                stack.append((entry.path, relpath + "/"))
            elif stat.S_ISREG(st.st_mode) and (not models_only or is_model_file(relpath)):
                result.files.append(
                    FoundFile(relpath, st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino)
                )
    result.files.sort(key=lambda f: f.relpath)
    return result

"""Walk a library root: every model file with its stat, without opening any file.

Hidden entries (`.trash`, `.staging`, dotfiles) are skipped. A symlink is followed only when its
target, resolved, lies inside the same root; each directory is entered once (by device and
inode), so symlink loops end. Names that are not valid UTF-8 are skipped and reported.
"""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path
from typing import NamedTuple

from comfy_tui.services.library.cancel import Cancelled
from comfy_tui.services.library.folder_types import PLAIN_MODEL_SUFFIXES, is_model_file

__all__ = ["FoundFile", "WalkResult", "walk_root"]


class FoundFile(NamedTuple):
    """A file and its stat; a tuple, as a walk makes one per file (10,000s)."""

    relpath: str  # POSIX, relative to the root
    size: int
    mtime_ns: int
    dev: int
    ino: int


class WalkResult:
    """What a walk found (a plain class: no dataclass methods made at import)."""

    __slots__ = ("files", "skipped")

    def __init__(self) -> None:
        self.files: list[FoundFile] = []
        self.skipped: list[str] = []  # one line each: what and why


def _inside(target: str, root_real: str) -> bool:
    return target == root_real or target.startswith(root_real.rstrip(os.sep) + os.sep)


def _utf8(relpath: str, result: WalkResult) -> bool:
    try:
        relpath.encode("utf-8")
    except UnicodeEncodeError:
        shown = relpath.encode("utf-8", "replace").decode()
        result.skipped.append(f"{shown}: not UTF-8")
        return False
    return True


def walk_root(
    root: Path,
    *,
    models_only: bool = True,
    cancel: threading.Event | None = None,
    in_order: bool = True,
) -> WalkResult:
    """Every (model) file under `root`, sorted by path (in the directories' order with
    `in_order=False`: a scan sorts only what it reads). Blocking: run it in a thread.

    Only model files and directories are stat'ed (the kind of an entry comes with the
    directory listing), each once: a rescan of an unchanged library costs about a plain walk.
    """
    result = WalkResult()
    found = result.files
    add = found.append
    make = tuple.__new__  # FoundFile(...) without its Python-level __new__: 10,000s per scan
    wanted = is_model_file if models_only else None
    plain = PLAIN_MODEL_SUFFIXES  # the common case, decided from the name alone
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
            listing = os.scandir(directory)
        except OSError as exc:
            result.skipped.append(f"{prefix or '.'}: cannot list ({exc.strerror or exc})")
            continue
        with listing:
            for entry in listing:
                name = entry.name
                if name[0] == ".":
                    continue
                relpath = prefix + name
                if not name.isascii() and not _utf8(relpath, result):
                    continue
                try:
                    if entry.is_file(follow_symlinks=False):  # the common case: no extra call
                        if (
                            wanted is not None
                            and not name.lower().endswith(plain)
                            and not wanted(relpath)
                        ):
                            continue  # not indexed: never stat'ed
                        st = entry.stat(follow_symlinks=False)
                        add(
                            make(
                                FoundFile,
                                (relpath, st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino),
                            )
                        )
                        continue
                    if entry.is_symlink():
                        if not _inside(os.path.realpath(entry.path), root_real):
                            result.skipped.append(
                                f"{relpath}: symlink leaves the root, not followed"
                            )
                            continue
                        st = os.stat(entry.path)
                    elif entry.is_dir(follow_symlinks=False):
                        st = entry.stat(follow_symlinks=False)
                    else:
                        continue  # a fifo, socket or device
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
                elif stat.S_ISREG(st.st_mode) and (wanted is None or wanted(relpath)):
                    add(
                        make(FoundFile, (relpath, st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino))
                    )
    if in_order:
        found.sort()  # by relpath: the first field, and unique
    return result

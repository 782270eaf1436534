"""Walk a library root: every model file with its stat, without opening any file.

Hidden entries (`.trash`, `.staging`, dotfiles) are skipped. A symlink is followed only when its
target, resolved, lies inside the same root; each directory is entered once (by device and
inode), so symlink loops end. Names that are not valid UTF-8 are skipped and reported.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from comfy_tui.services.library.cancel import Cancelled
from comfy_tui.services.library.folder_types import PLAIN_MODEL_SUFFIXES, is_model_file

if TYPE_CHECKING:
    import threading

    from comfy_tui.store.stat_rows import Known, Stamp

__all__ = ["FoundFile", "WalkResult", "walk_root"]

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


class FoundFile(NamedTuple):
    """A file and its stat; a tuple, as a walk makes one per file (10,000s)."""

    relpath: str  # POSIX, relative to the root
    size: int
    mtime_ns: int
    dev: int
    ino: int


class WalkResult:
    """What a walk found (a plain class: no dataclass methods made at import)."""

    __slots__ = ("files", "skipped", "unchanged")

    def __init__(self) -> None:
        self.files: list[FoundFile] = []
        self.skipped: list[str] = []  # one line each: what and why
        self.unchanged = 0  # files that matched `known` (not in `files`)


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
    known: Known | None = None,
) -> WalkResult:
    """Every (model) file under `root`, sorted by path (in the directories' order with
    `in_order=False`: a scan sorts only what it reads). Blocking: run it in a thread.

    Only model files and directories are stat'ed (the kind of an entry comes with the
    directory listing), each once: a rescan of an unchanged library costs about a plain walk.
    With `known` (a rescan), a file whose stamp matches its entry there is only counted
    (`unchanged`) and its entry removed: `files` lists the new and changed files, and what
    stays in `known` was not found.
    """
    result = WalkResult()
    found = result.files
    add = found.append
    make = tuple.__new__  # FoundFile(...) without its Python-level __new__: 10,000s per scan
    wanted = is_model_file if models_only else None
    plain = PLAIN_MODEL_SUFFIXES  # the common case, decided from the name alone
    nothing: dict[str, Stamp] = {}
    unchanged = 0
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
        try:  # listed through its descriptor: each entry's stat is then an `fstatat` by
            fd = os.open(directory, _DIR_FLAGS)  # name, not a whole path's lookup (-20% CPU)
        except OSError as exc:
            result.skipped.append(f"{prefix or '.'}: cannot list ({exc.strerror or exc})")
            continue
        stamps = known.get(prefix, nothing) if known is not None else nothing
        try:
            with os.scandir(fd) as listing:
                for entry in listing:
                    name = entry.name
                    if name[0] == ".":
                        continue
                    if not name.isascii() and not _utf8(prefix + name, result):
                        continue
                    try:
                        if entry.is_file(follow_symlinks=False):  # the common case
                            if (
                                wanted is not None
                                and not name.endswith(plain)
                                and not name.lower().endswith(plain)
                                and not wanted(prefix + name)
                            ):
                                continue  # not indexed: never stat'ed
                            st = entry.stat(follow_symlinks=False)
                            stamp = stamps.get(name)
                            if (
                                stamp is not None
                                and stamp[0] == st.st_size
                                and stamp[1] == st.st_mtime_ns
                                and stamp[2] == st.st_ino
                            ):
                                del stamps[name]
                                unchanged += 1
                                continue
                            add(
                                make(
                                    FoundFile,
                                    (
                                        prefix + name,
                                        st.st_size,
                                        st.st_mtime_ns,
                                        st.st_dev,
                                        st.st_ino,
                                    ),
                                )
                            )
                            continue
                        relpath = prefix + name
                        path = os.path.join(directory, name)
                        if entry.is_symlink():
                            if not _inside(os.path.realpath(path), root_real):
                                result.skipped.append(
                                    f"{relpath}: symlink leaves the root, not followed"
                                )
                                continue
                            st = os.stat(path)
                        elif entry.is_dir(follow_symlinks=False):
                            st = entry.stat(follow_symlinks=False)
                        else:
                            continue  # a fifo, socket or device
                    except OSError as exc:  # a broken link, a file that vanished
                        result.skipped.append(f"{prefix + name}: {exc.strerror or exc}")
                        continue
                    if stat.S_ISDIR(st.st_mode):
                        key = (st.st_dev, st.st_ino)
                        if key in seen:
                            result.skipped.append(f"{relpath}: directory already walked (a loop?)")
                            continue
                        seen.add(key)
                        stack.append((path, relpath + "/"))
                    elif stat.S_ISREG(st.st_mode) and (wanted is None or wanted(relpath)):
                        add(
                            make(
                                FoundFile,
                                (relpath, st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino),
                            )
                        )
        finally:
            os.close(fd)
    result.unchanged = unchanged
    if in_order:
        found.sort()  # by relpath: the first field, and unique
    return result

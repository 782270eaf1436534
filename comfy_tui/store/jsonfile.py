"""Crash-safe JSON state files guarded by an inter-process lock.

Every document is a JSON object with a top-level ``"schema_version"`` key; callers
see the object without it. A write never modifies the data file in place:

1. the new document goes to ``.<name>.<random>.tmp`` in the same directory, which is
   flushed and ``fsync``-ed;
2. if the current file is a valid document it is hard-linked to ``<name>.bak``
   (through a temporary link and a rename, so ``.bak`` is always complete);
3. the temporary file is renamed over ``<name>`` and the directory is ``fsync``-ed.

A ``kill -9`` at any moment therefore leaves ``<name>`` either the old or the new
version, and ``<name>.bak`` a version older than or equal to it. Temporary files left by
a killed writer are removed by the next writer, which holds the lock.

Writers serialise on ``fcntl.flock`` of a sidecar ``<name>.lock`` (never the data file,
which renames replace). The lock also excludes other threads of the same process, and
it is reentrant within one thread: taking it again for the same file is a no-op.
The API is synchronous; async callers use ``asyncio.to_thread``.
"""

from __future__ import annotations

import contextlib
import copy
import errno
import fcntl
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from comfy_tui.core.units import format_duration
from comfy_tui.errors import LockBusyError, MetadataError
from comfy_tui.store.atomic import fsync_dir

__all__ = [
    "SCHEMA_KEY",
    "backup_path",
    "file_lock",
    "lock_path",
    "read_json",
    "read_json_versioned",
    "update_json",
    "write_json",
]

logger = logging.getLogger(__name__)

SCHEMA_KEY = "schema_version"
"""The top-level key that holds a document's schema version on disk."""

_FILE_MODE = 0o600
_TOKEN_BYTES = 8  # os.urandom(8).hex() -> 16 hex digits (not `secrets`: it loads `random`)
_LOCK_POLL_MAX_S = 0.05


# --------------------------------------------------------------------------- paths


def lock_path(path: Path) -> Path:
    """Return the sidecar lock file of the data file ``path`` (``<name>.lock``)."""
    return path.with_name(path.name + ".lock")


def backup_path(path: Path) -> Path:
    """Return the backup of the data file ``path`` (``<name>.bak``)."""
    return path.with_name(path.name + ".bak")


def _tmp_name(path: Path, *, bak: bool = False) -> Path:
    suffix = ".bak.tmp" if bak else ".tmp"
    return path.with_name(f".{path.name}.{os.urandom(_TOKEN_BYTES).hex()}{suffix}")


def _tmp_pattern(path: Path) -> re.Pattern[str]:
    hex_digits = 2 * _TOKEN_BYTES
    return re.compile(rf"\.{re.escape(path.name)}\.[0-9a-f]{{{hex_digits}}}(?:\.bak)?\.tmp")


# ---------------------------------------------------------------------------- lock


@dataclass
class _Held:
    shared: bool
    depth: int = 1


_held = threading.local()


def _held_locks() -> dict[str, _Held]:
    """Locks this thread holds, keyed by resolved lock-file path."""
    held: dict[str, _Held] | None = getattr(_held, "locks", None)
    if held is None:
        held = {}
        _held.locks = held
    return held


def _lock_key(path: Path) -> str:
    return str(lock_path(path).resolve())


def _holds_exclusive(path: Path) -> bool:
    entry = _held_locks().get(_lock_key(path))
    return entry is not None and not entry.shared


def _acquire(fd: int, op: int, timeout: float | None, path: Path) -> None:
    if timeout is None:
        fcntl.flock(fd, op)
        return
    deadline = time.monotonic() + max(timeout, 0.0)
    delay = 0.001
    while True:
        try:
            fcntl.flock(fd, op | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            kind = "shared" if op == fcntl.LOCK_SH else "exclusive"
            raise LockBusyError(
                f"{path} is locked by another process or thread "
                f"(waited {format_duration(timeout, precision=1)} for a {kind} lock"
                f" on {lock_path(path)})"
            ) from None
        time.sleep(min(delay, remaining))
        delay = min(delay * 2, _LOCK_POLL_MAX_S)


@contextlib.contextmanager
def file_lock(path: Path, *, timeout: float | None = None, shared: bool = False) -> Iterator[None]:
    """Hold the inter-process lock of the data file ``path`` for the ``with`` block.

    The lock is ``fcntl.flock`` on the sidecar ``<name>.lock`` (created, mode 0600, along
    with missing parent directories). ``timeout`` None waits forever, 0 tries once, and a
    positive value polls until it runs out; then `LockBusyError` is raised. Other threads
    of this process are excluded too. Within one thread the lock is reentrant: a nested
    ``file_lock`` for the same file does nothing, except that asking for the exclusive
    lock while holding only the shared one raises `RuntimeError` (it could deadlock).
    """
    held = _held_locks()
    key = _lock_key(path)
    entry = held.get(key)
    if entry is not None:
        if entry.shared and not shared:
            raise RuntimeError(f"cannot upgrade the shared lock on {path} to an exclusive one")
        entry.depth += 1
        try:
            yield
        finally:
            entry.depth -= 1
        return

    lock_file = lock_path(path)
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, _FILE_MODE)
    try:
        _acquire(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX, timeout, path)
        held[key] = _Held(shared)
        try:
            yield
        finally:
            del held[key]
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# ---------------------------------------------------------------------------- read


class _Corrupt(Exception):
    """Internal: the file exists but is not a valid document."""


def _parse(path: Path) -> tuple[int, dict[str, Any]]:
    """Read and validate one file; raise FileNotFoundError, _Corrupt or MetadataError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise MetadataError(f"metadata file {path} cannot be read ({exc.strerror or exc})") from exc
    try:
        doc = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise _Corrupt(f"not UTF-8: {exc.reason} at byte {exc.start}") from exc
    except json.JSONDecodeError as exc:
        raise _Corrupt(str(exc)) from exc
    if not isinstance(doc, dict):
        raise _Corrupt(f"top level is a JSON {type(doc).__name__}, not an object")
    version = doc.pop(SCHEMA_KEY, None)
    if version is None:
        raise _Corrupt(f"no {SCHEMA_KEY}")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _Corrupt(f"bad {SCHEMA_KEY} {version!r}")
    return version, doc


def _check_version(path: Path, version: int, schema: int) -> None:
    if version > schema:
        raise MetadataError(
            f"metadata file {path} was written by a newer comfy-tui "
            f"(schema {version}, this build reads up to {schema})"
        )


def read_json_versioned(
    path: Path, *, schema: int = 1, default: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    """Like `read_json`, but also return the document's schema version.

    The version may be older than ``schema`` (the caller migrates). A ``default``
    returned for a missing file is reported as version ``schema``.
    """
    bak = backup_path(path)
    try:
        version, doc = _parse(path)
    except FileNotFoundError:
        try:
            version, doc = _parse(bak)
        except (FileNotFoundError, _Corrupt):
            if default is not None:
                return schema, copy.deepcopy(default)
            raise FileNotFoundError(
                errno.ENOENT, "metadata file does not exist", str(path)
            ) from None
        _check_version(bak, version, schema)
        logger.warning("metadata file %s is missing; using its backup %s", path, bak)
        return version, doc
    except _Corrupt as exc:
        problem = str(exc)
        try:
            version, doc = _parse(bak)
        except (FileNotFoundError, _Corrupt, MetadataError):
            raise MetadataError(
                f"metadata file {path} is corrupt ({problem}) and has no valid backup"
            ) from None
        _check_version(bak, version, schema)
        logger.warning("metadata file %s is corrupt (%s); using its backup %s", path, problem, bak)
        return version, doc
    _check_version(path, version, schema)
    return version, doc


def read_json(
    path: Path, *, schema: int = 1, default: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Return the document at ``path`` without its ``schema_version`` key.

    A missing file (with no backup) gives a copy of ``default``, or `FileNotFoundError`
    when there is none. A corrupt file falls back to a valid ``<name>.bak`` with a logged
    warning, and otherwise raises `MetadataError`; so does a schema newer than ``schema``.
    Reading takes no lock: files are only ever replaced whole, by rename.
    """
    return read_json_versioned(path, schema=schema, default=default)[1]


# --------------------------------------------------------------------------- write


def _remove_stale_tmp(path: Path) -> None:
    pattern = _tmp_pattern(path)
    try:
        entries = os.scandir(path.parent)
    except FileNotFoundError:
        return
    with entries:
        for entry in entries:
            if pattern.fullmatch(entry.name):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)


def _is_valid_document(path: Path) -> bool:
    try:
        _parse(path)
    except (OSError, _Corrupt, MetadataError):
        return False
    return True


def _serialize(data: dict[str, Any], schema: int) -> bytes:
    if not isinstance(data, dict):
        raise TypeError(f"a metadata document must be a dict, not {type(data).__name__}")
    if SCHEMA_KEY in data:
        raise ValueError(f"{SCHEMA_KEY!r} is reserved; pass schema= instead")
    if isinstance(schema, bool) or not isinstance(schema, int) or schema < 1:
        raise ValueError(f"schema must be a positive int, not {schema!r}")
    doc = {**data, SCHEMA_KEY: schema}
    text = json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    return text.encode("utf-8")


def _write_unlocked(path: Path, data: dict[str, Any], *, schema: int = 1) -> None:
    """Write atomically; the caller must hold the exclusive `file_lock` of ``path``."""
    if not _holds_exclusive(path):
        raise RuntimeError(f"writing {path} needs its exclusive lock")
    payload = _serialize(data, schema)
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    _remove_stale_tmp(path)

    tmp = _tmp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, _FILE_MODE)
    try:
        try:
            os.fchmod(fd, _FILE_MODE)  # whatever the umask
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)

        if _is_valid_document(path):
            bak_tmp = _tmp_name(path, bak=True)
            try:
                os.link(path, bak_tmp)
                os.replace(bak_tmp, backup_path(path))
            finally:
                # Gone after a rename; still there when the .bak already was this very file
                # (a writer killed between its two renames): rename(2) then does nothing.
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(bak_tmp)

        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(directory)


def write_json(path: Path, data: dict[str, Any], *, schema: int = 1) -> None:
    """Atomically replace ``path`` with ``data`` plus ``"schema_version": schema``.

    Takes the exclusive lock (waiting for it), keeps the previous valid version as
    ``<name>.bak``, cleans stale temporary files, and writes mode 0600 with
    missing parent directories created.
    """
    with file_lock(path):
        _write_unlocked(path, data, schema=schema)


def update_json(
    path: Path,
    fn: Callable[[dict[str, Any]], dict[str, Any]],
    *,
    schema: int = 1,
    default: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Read, transform with ``fn`` and write ``path`` under its exclusive lock.

    A missing file reads as ``default`` (`FileNotFoundError` without one). ``fn`` gets a
    document that may be of an older schema and must return one of schema ``schema``;
    it may mutate its argument. Returns the dict that was written.
    """
    with file_lock(path):
        current = read_json(path, schema=schema, default=default)
        new = fn(current)
        _write_unlocked(path, new, schema=schema)
        return new

"""Wakes when another process (a CLI command, a second TUI, a supervisor) or this one changes
the shared state: instance records, version records and the default, the model index, nodes.

On Linux it is inotify (through libc, no dependency): the kernel wakes the event loop when an
entry of a watched directory is written, renamed into place or removed, so an idle app does
no work at all. Elsewhere (or when inotify cannot be had) the directories are stat-ed at a
poll interval (`state_stamps`). Bursts are coalesced: at most one change set every
`COALESCE_S` seconds.
"""

from __future__ import annotations

import asyncio
import logging
import os
import struct
from collections.abc import AsyncGenerator
from pathlib import Path

from comfy_tui.paths import DataPaths
from comfy_tui.services.state_stamps import Spot, areas_of, changed_areas, spots, stamps

__all__ = ["COALESCE_S", "StateWatch"]

log = logging.getLogger(__name__)

COALESCE_S = 0.1
"""Changes arriving within this long after the first are reported together."""

_IN_MODIFY = 0x002
_IN_CLOSE_WRITE = 0x008
_IN_MOVED_FROM = 0x040
_IN_MOVED_TO = 0x080
_IN_CREATE = 0x100
_IN_DELETE = 0x200
_IN_Q_OVERFLOW = 0x4000
_FILES = _IN_MODIFY | _IN_CLOSE_WRITE | _IN_MOVED_FROM | _IN_MOVED_TO | _IN_CREATE | _IN_DELETE
_DATABASE = _IN_MODIFY | _IN_MOVED_TO
"""SQLite: readers open the files read-write and make and remove an empty -wal; only writes
(and a database renamed into place) are changes."""
_EVENT = struct.Struct("iIII")


def _mask(spot: Spot) -> int:
    return _DATABASE if spot.database else _FILES


class _Inotify:
    """One inotify descriptor watching the spots' directories."""

    def __init__(self, watch: list[Spot]) -> None:
        import ctypes  # here: the watch starts after the first frame
        import ctypes.util

        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")
        self.fd: int = fd
        self._spots = watch
        self._dirs: dict[int, Path] = {}
        masks: dict[Path, int] = {}
        for spot in watch:
            masks[spot.directory] = masks.get(spot.directory, 0) | _mask(spot)
        try:
            for directory, mask in masks.items():
                wd = libc.inotify_add_watch(fd, os.fsencode(directory), mask)
                if wd < 0:
                    raise OSError(ctypes.get_errno(), f"inotify_add_watch {directory} failed")
                self._dirs[wd] = directory
        except OSError:
            os.close(fd)
            raise

    def read(self) -> set[str] | None:
        """The areas touched by the queued events; None when the kernel dropped some."""
        areas: set[str] = set()
        while True:
            try:
                data = os.read(self.fd, 64 * 1024)
            except BlockingIOError:
                return areas
            offset = 0
            while offset + _EVENT.size <= len(data):
                wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
                raw = data[offset + _EVENT.size : offset + _EVENT.size + length]
                offset += _EVENT.size + length
                if mask & _IN_Q_OVERFLOW:
                    return None
                directory = self._dirs.get(wd)
                if directory is not None:
                    name = os.fsdecode(raw.rstrip(b"\0"))
                    counted = [s for s in self._spots if mask & _mask(s)]
                    areas |= areas_of(counted, directory, name)

    def close(self) -> None:
        os.close(self.fd)


class StateWatch:
    """`changes()` yields the set of areas ("instances", "versions", "library", "nodes") each
    time some changed; `poll` is the fallback interval without inotify."""

    def __init__(self, paths: DataPaths, *, poll: float) -> None:
        self._paths = paths
        self.poll = poll
        self.mode = ""
        """"inotify" or "poll" once `changes()` is watching (a change after that is seen)."""
        self.descriptor: int | None = None
        """The inotify descriptor while `changes()` watches with one; None once it is closed
        (the iterator closed or its task cancelled)."""

    async def changes(self) -> AsyncGenerator[frozenset[str], None]:
        """One generator owns the descriptor: closing it (or cancelling the task iterating
        it) removes the reader and closes the descriptor before it returns."""
        watch = await asyncio.to_thread(spots, self._paths)
        try:
            notify = _Inotify(watch)
        except (OSError, AttributeError) as exc:  # no inotify here (or out of watches)
            log.info("watching the shared state by polling: %s", exc)
            before = await asyncio.to_thread(stamps, watch)
            self.mode = "poll"
            while True:
                await asyncio.sleep(self.poll)
                after = await asyncio.to_thread(stamps, watch)
                areas = changed_areas(before, after)
                before = after
                if areas:
                    yield areas
        loop = asyncio.get_running_loop()
        woken = asyncio.Event()
        pending: set[str] = set()

        def readable() -> None:
            areas = notify.read()
            pending.update({s.area for s in watch} if areas is None else areas)
            if pending:
                woken.set()

        loop.add_reader(notify.fd, readable)
        self.descriptor = notify.fd
        self.mode = "inotify"
        try:
            while True:
                await woken.wait()
                await asyncio.sleep(COALESCE_S)  # let a burst (a scan, a rename) settle
                woken.clear()
                changed = frozenset(pending)
                pending.clear()
                yield changed
        finally:
            loop.remove_reader(notify.fd)
            notify.close()
            self.descriptor = None

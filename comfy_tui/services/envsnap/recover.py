"""Settle snapshot restores that were killed midway (their journal is still there).

Run at the start of every command, CLI and TUI, only when `journal.has_journals` says a journal
exists. Each journal's version lock is tried without waiting: a restore that still runs (in
another process) holds it and is left alone. Then, by the journal's phase:

- ``checking``: nothing had changed; the journal is dropped;
- ``applying``: the version is put back to the "before" snapshot the restore saved (rolled
  back), as a failed restore would have been;
- ``applied``: the restore had finished; the journal is dropped.

Each settled journal gives one line for the user, saying which of these happened.
"""

from __future__ import annotations

import asyncio
import logging

from comfy_tui.errors import ComfyTuiError, LockBusyError, NotFoundError
from comfy_tui.events import each
from comfy_tui.services.envsnap import journal
from comfy_tui.services.envsnap.capture import SnapshotTaker, version_lock
from comfy_tui.services.envsnap.restore import apply_snapshot
from comfy_tui.services.nodes.version_env import load_version

__all__ = ["recover_restores"]

log = logging.getLogger(__name__)


async def _settle(taker: SnapshotTaker, tag: str, doc: dict[str, object] | None) -> str:
    if doc is None:
        return (
            f"a damaged journal of an interrupted snapshot restore of {tag} was removed; check "
            f"the version with 'comfy-tui snapshot list {tag}'"
        )
    target, before, phase = doc.get("target"), doc.get("before"), doc.get("phase")
    what = f"the interrupted restore of {tag} to snapshot {target}"
    if phase == "applied":
        return f"{what} had finished"
    if phase != "applying" or not isinstance(before, str):
        return f"{what} had changed nothing; nothing to do"
    try:
        env = await load_version(taker.paths, tag)
    except NotFoundError:
        return f"{what}: {tag} is no longer installed; nothing to do"
    try:
        snapshot = await taker.get(tag, before)
        await each(
            apply_snapshot(taker, env, snapshot),
            lambda event: log.info("roll back %s: %s", tag, event),
        )
    except ComfyTuiError as exc:
        return (
            f"{what} could not be rolled back ({exc}); the state before it is snapshot "
            f"{before} (comfy-tui snapshot restore {tag} {before})"
        )
    return f"{what} was rolled back to snapshot {before}, the state before it"


async def recover_restores(taker: SnapshotTaker) -> list[str]:
    """Settle every killed restore; one line each (see the module docstring)."""
    lines: list[str] = []
    for tag, doc in await asyncio.to_thread(journal.pending, taker.paths):
        lock = version_lock(taker.paths, tag)
        try:
            await lock.acquire()
        except LockBusyError:  # that restore is still running, in another process
            continue
        try:
            line = await _settle(taker, tag, doc)
            await asyncio.to_thread(journal.end, taker.paths, tag)
        finally:
            lock.release()
        log.warning("%s", line)
        lines.append(line)
    return lines

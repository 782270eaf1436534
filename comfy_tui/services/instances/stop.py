"""Stop an instance: SIGINT to its process group, a grace period, then SIGKILL to everything
left in its session.

ComfyUI shuts down cleanly on SIGINT in about 2 s (SIGTERM would kill it at once). "Stopped"
means nothing of the instance runs any more: after the grace period every process still in
the instance's session (a custom node's worker that ignores SIGINT, whether or not ComfyUI
itself exited) is killed, and the report names each one. Every signal goes through
`identity`, which refuses pids whose create time does not match.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from dataclasses import dataclass

import psutil

from comfy_tui.core.units import format_duration
from comfy_tui.paths import DataPaths
from comfy_tui.services.instances.identity import (
    any_alive,
    describe,
    session_members,
    signal_instance,
    signal_members,
)
from comfy_tui.store.instance_records import InstanceRecord, require_instance, update_instance

POLL_S = 0.05
KILL_WAIT_S = 5.0


@dataclass(frozen=True)
class StopReport:
    """The final record, and the processes that had to be killed (`4242 (python x.py)`)."""

    record: InstanceRecord
    killed: tuple[str, ...] = ()


def _left(record: InstanceRecord) -> list[psutil.Process]:
    """What still runs of the instance: its session's members (ComfyUI and supervisor too)."""
    return session_members(record)


async def _wait_gone(paths: DataPaths, instance_id: str, seconds: float) -> bool:
    """Wait until nothing of the instance runs; False if something still does after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        record = await asyncio.to_thread(require_instance, paths, instance_id)
        alive = await asyncio.to_thread(any_alive, record)
        if not alive and not await asyncio.to_thread(_left, record):
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(POLL_S)


def _mark_stopping(paths: DataPaths, instance_id: str) -> InstanceRecord:
    return update_instance(
        paths,
        instance_id,
        lambda r: r.evolve(state="stopping", stop_requested=True) if r.live else None,
    )


def _finalize(paths: DataPaths, instance_id: str, code: int | None, reason: str) -> InstanceRecord:
    now = time.time()

    def done(r: InstanceRecord) -> InstanceRecord | None:
        if not r.live:
            return None  # the supervisor recorded the exit itself
        return r.evolve(state="exited", exit_code=code, reason=reason, ended_at=now)

    return update_instance(paths, instance_id, done)


def _in_group(proc: psutil.Process, pgid: int | None) -> bool:
    try:
        return os.getpgid(proc.pid) == pgid
    except OSError:
        return False


def _interrupt(record: InstanceRecord) -> bool:
    """SIGINT to the group (once: a second one would cut ComfyUI's clean shutdown short), and
    to members that left the group but not the session; False when nothing was there."""
    sent = signal_instance(record, signal.SIGINT) if record.live else False
    others = [p for p in _left(record) if not (sent and _in_group(p, record.pgid))]
    return bool(signal_members(others, signal.SIGINT)) or sent


def _kill_rest(record: InstanceRecord) -> tuple[bool, list[str]]:
    """SIGKILL the group and every member left; (ComfyUI itself was still up, the others)."""
    comfyui_up = any_alive(record)
    own = {record.pid, record.supervisor_pid}
    members = _left(record)
    named = {p.pid: describe(p) for p in members if p.pid not in own}  # before they are gone
    signal_instance(record, signal.SIGKILL)
    reached = signal_members(members, signal.SIGKILL)
    return comfyui_up, [named[p.pid] for p in reached if p.pid in named]


async def stop_instance(paths: DataPaths, instance_id: str, grace: float) -> StopReport:
    """Stop one instance; a finished one only loses what it left behind."""
    record = await asyncio.to_thread(_mark_stopping, paths, instance_id)
    sent = await asyncio.to_thread(_interrupt, record)
    if not record.live and not sent:
        return StopReport(record)
    if await _wait_gone(paths, instance_id, grace):
        reason = "stopped" if sent else "not running"
        return StopReport(await asyncio.to_thread(_finalize, paths, instance_id, None, reason))
    record = await asyncio.to_thread(require_instance, paths, instance_id)
    comfyui_up, killed = await asyncio.to_thread(_kill_rest, record)
    await _wait_gone(paths, instance_id, KILL_WAIT_S)
    if comfyui_up:
        final = await asyncio.to_thread(
            _finalize,
            paths,
            instance_id,
            -signal.SIGKILL,
            f"did not stop within {format_duration(grace, precision=1)} of SIGINT; killed",
        )
    else:
        final = await asyncio.to_thread(_finalize, paths, instance_id, None, "stopped")
    return StopReport(final, tuple(killed))

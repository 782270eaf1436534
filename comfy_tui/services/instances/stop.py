"""Stop an instance: SIGINT to its process group, a grace period, then SIGKILL.

ComfyUI shuts down cleanly on SIGINT in about 2 s (SIGTERM would kill it at once). Every
signal goes through `identity.signal_instance`, which refuses pids whose create time does
not match the record.
"""

from __future__ import annotations

import asyncio
import signal
import time

from comfy_tui.paths import DataPaths
from comfy_tui.services.instances.identity import any_alive, signal_instance
from comfy_tui.store.instance_records import InstanceRecord, require_instance, update_instance

POLL_S = 0.05
KILL_WAIT_S = 5.0


async def _wait_gone(paths: DataPaths, instance_id: str, seconds: float) -> bool:
    """Wait until nothing of the instance runs; False if it still does after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        record = await asyncio.to_thread(require_instance, paths, instance_id)
        if not await asyncio.to_thread(any_alive, record):
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


async def stop_instance(paths: DataPaths, instance_id: str, grace: float) -> InstanceRecord:
    """Stop one instance and return its final record (a finished one is returned as is)."""
    record = await asyncio.to_thread(_mark_stopping, paths, instance_id)
    if not record.live:
        return record
    if not await asyncio.to_thread(signal_instance, record, signal.SIGINT):
        return await asyncio.to_thread(_finalize, paths, instance_id, None, "not running")
    if await _wait_gone(paths, instance_id, grace):
        return await asyncio.to_thread(_finalize, paths, instance_id, None, "stopped")
    record = await asyncio.to_thread(require_instance, paths, instance_id)
    await asyncio.to_thread(signal_instance, record, signal.SIGKILL)
    await _wait_gone(paths, instance_id, KILL_WAIT_S)
    reason = f"did not stop within {grace:g} s of SIGINT; killed"
    return await asyncio.to_thread(_finalize, paths, instance_id, -signal.SIGKILL, reason)

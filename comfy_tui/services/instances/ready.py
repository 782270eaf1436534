"""Wait until a launched instance is ready, streaming its startup log as events.

Ready = our ComfyUI process is alive and `/system_stats` answers with our argv. The wait
fails fast when the process ends (with the reason from its log), and at the deadline the
instance is stopped, so a failed launch leaves nothing running.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from comfy_tui.core.units import format_duration
from comfy_tui.errors import ProcessError
from comfy_tui.events import Event, Finished, LogLine, Progress
from comfy_tui.paths import DataPaths
from comfy_tui.services.instances.health import new_session, probe
from comfy_tui.services.instances.identity import any_alive, comfyui_alive
from comfy_tui.services.instances.reasons import exit_reason
from comfy_tui.services.logtail import LogTail
from comfy_tui.store.instance_records import InstanceRecord, require_instance, update_instance

FIRST_POLL_S = 0.05
MAX_POLL_S = 0.1
LOG_LINES_PER_TICK = 200


def mark_running(paths: DataPaths, record: InstanceRecord) -> InstanceRecord:
    """starting/unhealthy → running, only if it is still the same ComfyUI process."""

    def up(r: InstanceRecord) -> InstanceRecord | None:
        if r.state in ("starting", "unhealthy") and r.pid == record.pid:
            return r.evolve(state="running")
        return None

    return update_instance(paths, record.id, up)


def _mark_lost(paths: DataPaths, record: InstanceRecord) -> InstanceRecord:
    """Everything of the instance died without the supervisor recording it."""
    reason = exit_reason(Path(record.log_path), record.log_start, None, record.port)
    now = time.time()

    def lost(r: InstanceRecord) -> InstanceRecord | None:
        return r.evolve(state="crashed", reason=reason, ended_at=now) if r.live else None

    return update_instance(paths, record.id, lost)


async def wait_ready(
    paths: DataPaths,
    instance_id: str,
    timeout: float,
    stop: Callable[[str], Awaitable[InstanceRecord]],
    url: str,
) -> AsyncIterator[Event]:
    """Yield LogLine (startup output, up to the answer that made it ready), Progress (once a
    second), then Finished(url).

    Raises ProcessError when ComfyUI exits first (with its reason) or when `timeout` passes.
    """
    record = await asyncio.to_thread(require_instance, paths, instance_id)
    tail = LogTail(Path(record.log_path), start=record.log_start)
    began = time.monotonic()
    last_progress = -1
    delay = FIRST_POLL_S
    try:
        async with new_session() as session:
            while True:
                for line in (await tail.poll())[-LOG_LINES_PER_TICK:]:
                    yield LogLine(line, source=instance_id)
                record = await asyncio.to_thread(require_instance, paths, instance_id)
                if record.live and not await asyncio.to_thread(any_alive, record):
                    record = await asyncio.to_thread(_mark_lost, paths, record)
                if not record.live:
                    for line in await tail.poll():
                        yield LogLine(line, source=instance_id)
                    why = record.reason or "it exited"
                    raise ProcessError(f"{instance_id} did not start: {why}")
                if record.pid and await asyncio.to_thread(comfyui_alive, record):
                    health = await probe(session, record, with_queue=False)
                    if health.healthy:
                        await asyncio.to_thread(mark_running, paths, record)
                        # What it printed before it answered is in the log (it writes there
                        # itself): its last startup lines, "To see the GUI go to ..." among them.
                        for line in (await tail.poll())[-LOG_LINES_PER_TICK:]:
                            yield LogLine(line, source=instance_id)
                        yield Finished(f"{instance_id} ready at {url}")
                        return
                elapsed = time.monotonic() - began
                if elapsed > timeout:
                    await stop(instance_id)
                    raise ProcessError(
                        f"{instance_id} was not ready after "
                        f"{format_duration(timeout, precision=1)}, so it was stopped "
                        f"(see: comfy-tui logs {instance_id})"
                    )
                if int(elapsed) > last_progress:
                    last_progress = int(elapsed)
                    fraction = min(elapsed / timeout, 0.99)
                    yield Progress("starting ComfyUI", fraction, detail=format_duration(elapsed))
                await asyncio.sleep(delay)
                delay = min(delay * 1.5, MAX_POLL_S)
    finally:
        tail.close()

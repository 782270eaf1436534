"""`upgrade FROM TO --switch` and its undo: running instances move between versions.

`switch`: each live instance of FROM, one at a time (lowest port first), is stopped and started
again on TO with the same id, port, GPU, listen address, extra flags and environment, and must
be ready before the next one moves. When one fails on TO (not ready, or TO refuses its flags)
it is started again on FROM, the switch stops, and the instances moved before it STAY on TO
(`rollback FROM` moves them back). Only when every instance moved does TO become the default.
The change is remembered (services/lifecycle/changes.py) in both cases.

`switch_back` (`rollback FROM` after a switch): every instance the switch moved that still
runs on TO goes back to FROM the same way, and the default goes back to what it was.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncGenerator

from comfy_tui.errors import ComfyTuiError, InstallError
from comfy_tui.events import Event, Finished, LogLine, Progress, Step, forwards
from comfy_tui.paths import DataPaths
from comfy_tui.services.instances.launch import request_of
from comfy_tui.services.instances.service import InstancesService
from comfy_tui.services.lifecycle import changes
from comfy_tui.services.version_guard import VersionGuard
from comfy_tui.store import version_records
from comfy_tui.store.instance_records import InstanceRecord, require_instance

__all__ = ["move_instance", "switch", "switch_back"]


async def move_instance(
    instances: InstancesService, record: InstanceRecord, tag: str
) -> AsyncGenerator[Event, None]:
    """Stop `record` and start it on `tag` with everything else the same; ready or raise."""
    old = await instances.stop(record.id, keep_wanted=True)
    request = dataclasses.replace(request_of(old), version=tag)
    started = await instances.start(request, previous=old)
    async for event in instances.wait_ready(started.id):
        if not isinstance(event, Finished):
            yield event


@forwards
async def switch(
    paths: DataPaths, guard: VersionGuard, instances: InstancesService, source: str, target: str
) -> AsyncGenerator[Step, None]:
    default_before = await asyncio.to_thread(version_records.get_default, paths)
    live = sorted(await guard.live(source), key=lambda r: r.port)
    moved: list[str] = []
    for i, record in enumerate(live):
        yield Progress("switch", i / max(1, len(live)), detail=f"{record.id} :{record.port}")
        yield LogLine(f"moving {record.id} (:{record.port}) to {target}", "comfy-tui")
        try:
            yield move_instance(instances, record, target)
        except ComfyTuiError as exc:
            yield LogLine(f"{record.id} failed on {target}: {exc}", "comfy-tui")
            current = await asyncio.to_thread(require_instance, paths, record.id)
            yield move_instance(instances, current, source)
            await _remember(paths, source, target, moved, default_before)
            stay = (
                f"; {', '.join(moved)} stay on {target} (comfy-tui rollback {source} moves them "
                "back)"
                if moved
                else ""
            )
            raise InstallError(
                f"switch stopped: {record.id} did not come up on {target} ({exc}); it runs on "
                f"{source} again{stay}"
            ) from exc
        moved.append(record.id)
        yield LogLine(f"{record.id} runs on {target} (:{record.port})", "comfy-tui")
    await asyncio.to_thread(version_records.set_default, paths, target)
    await _remember(paths, source, target, moved, default_before)
    yield Progress("switch", 1.0, detail="switched")
    yield Finished(f"{target} is the default; {len(moved)} instance(s) moved from {source}")


async def _remember(
    paths: DataPaths, source: str, target: str, moved: list[str], default_before: str | None
) -> None:
    change = changes.Change(
        kind="switch",
        name=source,
        at=time.time(),
        to=target,
        instances=tuple(moved),
        default_before=default_before,
    )
    await asyncio.to_thread(changes.save_change, paths, change, source)


@forwards
async def switch_back(
    paths: DataPaths, instances: InstancesService, change: changes.Change
) -> AsyncGenerator[Step, None]:
    source, target = change.name, change.to
    for instance_id in change.instances:
        record = await asyncio.to_thread(require_instance, paths, instance_id)
        if not record.live or record.version != target:
            yield LogLine(f"{instance_id} no longer runs on {target}: left as it is", "comfy-tui")
            continue
        yield LogLine(f"moving {instance_id} (:{record.port}) back to {source}", "comfy-tui")
        yield move_instance(instances, record, source)
    if await asyncio.to_thread(version_records.get_default, paths) == target:
        await asyncio.to_thread(version_records.set_default, paths, change.default_before)
    await asyncio.to_thread(changes.save_change, paths, None, source)
    yield Finished(
        f"switch undone: {len(change.instances)} instance(s) back on {source}; default "
        f"{change.default_before or 'none'}"
    )

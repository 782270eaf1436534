"""`up`: start again every instance the user wants up that is not running (after a reboot,
or `kill -9`), each with its saved id, port, GPU, flags and environment, and wait for each
to be ready. Runs the starts side by side; one failing does not stop the others.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from comfy_tui.errors import ComfyTuiError
from comfy_tui.events import Finished
from comfy_tui.services.instances.launch import request_of
from comfy_tui.services.instances.ports import port_is_free
from comfy_tui.services.instances.service import InstancesService
from comfy_tui.store.instance_records import InstanceRecord


@dataclass(frozen=True)
class UpResult:
    """How bringing one instance back went."""

    id: str
    version: str
    port: int
    gpu: int | None
    ok: bool
    detail: str  # the URL when ready, else why not

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "version": self.version,
            "port": self.port,
            "gpu": self.gpu,
            "ok": self.ok,
            "detail": self.detail,
        }


def wanted_down(records: list[InstanceRecord]) -> list[InstanceRecord]:
    """Records the user wants up that are not running (newest record per port wins)."""
    live_ports = {r.port for r in records if r.live}
    chosen: dict[int, InstanceRecord] = {}
    for record in records:
        if record.wanted and not record.live and record.port not in live_ports:
            chosen[record.port] = record  # records come oldest first
    return list(chosen.values())


async def _bring_up(svc: InstancesService, record: InstanceRecord) -> UpResult:
    def result(ok: bool, detail: str, gpu: int | None = record.gpu) -> UpResult:
        return UpResult(record.id, record.version, record.port, gpu, ok, detail)

    if not await asyncio.to_thread(port_is_free, record.listen, record.port):
        return result(False, f"port {record.port} is in use by another program")
    try:
        started = await svc.start(request_of(record), previous=record)
        if started.port != record.port:  # taken between the check and the start
            await svc.stop(started.id, keep_wanted=True)
            return result(False, f"port {record.port} was taken")
        async for event in svc.wait_ready(started.id):
            if isinstance(event, Finished):
                return result(True, svc.url(started), started.gpu)
    except ComfyTuiError as exc:
        return result(False, str(exc))
    return result(False, "did not become ready")


async def bring_up(svc: InstancesService) -> list[UpResult]:
    """Start every wanted instance that is down; one result each, in launch order."""
    views = await svc.refresh()  # reconcile first: killed instances are marked exited
    targets = wanted_down([v.record for v in views])
    return list(await asyncio.gather(*(_bring_up(svc, r) for r in targets)))

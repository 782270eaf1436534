"""Reattach and watch: reconcile every run record with what really runs, and read health,
queue depth, CPU and memory of the live ones.

A record whose processes are gone (or whose pids now belong to strangers: the create time
differs) is marked exited. A live one is probed: it becomes running when `/system_stats`
answers with our argv, and unhealthy after `UNHEALTHY_AFTER` failed probes in a row.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from comfy_tui.aio import to_thread
from comfy_tui.errors import LockBusyError
from comfy_tui.paths import DataPaths
from comfy_tui.services.instances.health import PROBE_TIMEOUT_S, Probe, new_session, probe
from comfy_tui.services.instances.identity import any_alive, comfyui_alive
from comfy_tui.store.instance_records import (
    InstanceRecord,
    launch_lock,
    list_instances,
    update_instance,
)
from comfy_tui.store.jsonfile import file_lock

if TYPE_CHECKING:
    import psutil

UNHEALTHY_AFTER = 3
LOCK_WAIT_S = 5.0

Reconciled = list[tuple[InstanceRecord, bool]]
"""Every record (launch order) with "is ComfyUI itself alive"."""


class Watcher:
    """Keeps what one refresh needs from the previous one (failure counts, CPU baselines)."""

    def __init__(
        self,
        paths: DataPaths,
        clock: Callable[[], float] = time.time,
        probe_timeout: float = PROBE_TIMEOUT_S,
    ) -> None:
        self.paths = paths
        self.clock = clock
        self.probe_timeout = probe_timeout
        self.failures: dict[str, int] = {}
        self._procs: dict[tuple[int, float], psutil.Process] = {}

    # --- processes (blocking) -----------------------------------------------------------
    def reconcile(self) -> Reconciled:
        """Every record with "is ComfyUI itself alive"; dead live-state records → exited."""
        out = []
        try:
            with file_lock(launch_lock(self.paths), timeout=LOCK_WAIT_S, shared=True):
                for record in list_instances(self.paths):
                    if record.live and not any_alive(record):
                        record = update_instance(self.paths, record.id, self._gone)
                    out.append((record, record.live and comfyui_alive(record)))
        except LockBusyError:  # a launch is stuck mid-spawn: report, change nothing
            out = [(r, r.live and comfyui_alive(r)) for r in list_instances(self.paths)]
        return out

    def _gone(self, r: InstanceRecord) -> InstanceRecord | None:
        if not r.live or any_alive(r):
            return None
        reason = "stopped" if r.state == "stopping" else "no longer running"
        return r.evolve(state="exited", reason=r.reason or reason, ended_at=self.clock())

    def _usage(self, record: InstanceRecord) -> tuple[float | None, int | None]:
        if record.pid is None or record.create_time is None:
            return None, None
        import psutil

        key = (record.pid, record.create_time)
        try:
            proc = self._procs.get(key)
            if proc is None:
                proc = self._procs[key] = psutil.Process(record.pid)
                proc.cpu_percent(None)  # the baseline; the next call has a real value
                return None, proc.memory_info().rss
            return proc.cpu_percent(None), proc.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            self._procs.pop(key, None)
            return None, None

    def _usages(self, records: list[InstanceRecord]) -> dict[str, tuple[float | None, int | None]]:
        live_keys = {(r.pid, r.create_time) for r in records}
        for key in list(self._procs):
            if key not in live_keys:
                del self._procs[key]
        return {r.id: self._usage(r) for r in records}

    # --- health -------------------------------------------------------------------------
    def _after_probe(self, record: InstanceRecord, health: Probe) -> InstanceRecord:
        if health.healthy:
            self.failures.pop(record.id, None)
            if record.state in ("starting", "unhealthy"):
                from comfy_tui.services.instances.ready import mark_running

                return mark_running(self.paths, record)
            return record
        if record.state not in ("running", "unhealthy"):
            return record  # still starting: not a failure yet
        count = self.failures.get(record.id, 0) + 1
        self.failures[record.id] = count
        if count >= UNHEALTHY_AFTER and record.state == "running":

            def down(r: InstanceRecord) -> InstanceRecord | None:
                ok = r.state == "running" and r.pid == record.pid
                return r.evolve(state="unhealthy") if ok else None

            return update_instance(self.paths, record.id, down)
        return record

    async def refresh(
        self, reconciled: Reconciled | None = None
    ) -> tuple[list[InstanceRecord], dict[str, Probe], dict[str, tuple[float | None, int | None]]]:
        """Reconcile (unless given what `reconcile` returned just now), probe the live ones,
        read their usage. Returns records in launch order."""
        pairs = reconciled if reconciled is not None else await to_thread(self.reconcile)
        probed = [r for r, alive in pairs if alive and r.state != "stopping"]
        probes: dict[str, Probe] = {}
        if probed:
            import asyncio

            async with new_session(self.probe_timeout) as session:
                results = await asyncio.gather(*(probe(session, r) for r in probed))
            probes = dict(zip((r.id for r in probed), results, strict=True))
        records = []
        for record, _ in pairs:
            if record.id in probes:
                record = await to_thread(self._after_probe, record, probes[record.id])
            records.append(record)
        usage = await to_thread(
            self._usages, [r for r, alive in pairs if alive and r.pid is not None]
        )
        return records, probes, usage

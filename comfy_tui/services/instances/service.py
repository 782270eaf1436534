"""InstancesService: the one API the TUI and the CLI use to launch, list, stop and restart.

    svc = InstancesService(settings, paths, guard=..., model_paths=..., wiring=...)
    record = await svc.start(LaunchRequest("v0.3.77"))       # spawned, not ready yet
    async for event in svc.wait_ready(record.id): ...         # LogLine / Progress / Finished
    async for event in svc.launch(LaunchRequest(...)): ...    # both at once
    views = await svc.refresh()                               # reattach + health + usage
    await svc.stop(record.id)

The guard (which versions run, the version lock) and the model library (`model_paths`, the
`wiring` check) are required: `services/container.py` wires them for every front end, so a
launch from the CLI and one from the TUI build the same command line.

Instances run under a detached supervisor and outlive the process that launched them;
any later comfy-tui process picks them up again through `refresh`.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from comfy_tui.aio import to_thread
from comfy_tui.errors import NotFoundError, ValidationError
from comfy_tui.paths import DataPaths
from comfy_tui.services.instances.gpus import (
    GpuCount,
    GpuMemory,
    GpuMemoryReader,
    no_gpu_memory,
    nvml_gpu_count,
)
from comfy_tui.services.instances.health import PROBE_TIMEOUT_S, base_url, get_json, new_session
from comfy_tui.services.instances.views import InstanceView, tunnel_for, url_for
from comfy_tui.services.instances.watch import Reconciled, Watcher
from comfy_tui.services.version_guard import VersionGuard
from comfy_tui.settings import Settings
from comfy_tui.store.instance_records import (
    InstanceRecord,
    list_instances,
    prune_finished,
    require_instance,
    update_instance,
)
from comfy_tui.validate import validate_tag

if TYPE_CHECKING:  # launching, waiting and stopping are imported when used: not by `ps`
    from comfy_tui.events import Event
    from comfy_tui.services.instances.launch import LaunchRequest
    from comfy_tui.services.instances.stop import StopReport
    from comfy_tui.store.version_records import VersionRecord

log = logging.getLogger(__name__)

ModelPaths = Callable[[str], Awaitable[Path | None]]
"""Writes the extra_model_paths.yaml that points a version at the library; returns its path."""


WiringCheck = Callable[[Mapping[str, Any]], list[str]]
"""ComfyUI's reported folder paths -> what it lacks of the model library (one line each)."""


def _user_name() -> str:
    import getpass  # termios and pwd: only for a view's tunnel line

    return getpass.getuser()


class InstancesService:
    """Launch / stop / restart / reattach ComfyUI instances, and read their state."""

    def __init__(
        self,
        settings: Settings,
        paths: DataPaths,
        *,
        guard: VersionGuard,
        model_paths: ModelPaths,
        wiring: WiringCheck | None,
        gpu_count: GpuCount = nvml_gpu_count,
        gpu_memory: GpuMemoryReader = no_gpu_memory,
        clock: Callable[[], float] = time.time,
        hostname: Callable[[], str] = socket.gethostname,
        username: Callable[[], str] | None = None,
        probe_timeout: float = PROBE_TIMEOUT_S,
    ) -> None:
        """`model_paths` makes the library visible to a version before each launch;
        `wiring` (None with symlink mapping) checks what a ready ComfyUI reports."""
        self.settings = settings
        self.guard = guard
        self.paths = paths
        self.clock = clock
        self._gpu_count_fn = gpu_count
        self._gpu_memory = gpu_memory
        self._gpu_count: int | None = None
        self._hostname = hostname
        self._username = username or _user_name
        self._watcher = Watcher(paths, clock, probe_timeout)
        self.last_views: list[InstanceView] = []
        self._model_paths = model_paths
        self._wiring = wiring

    # --- helpers --------------------------------------------------------------------------
    async def gpu_count(self) -> int:
        if self._gpu_count is None:
            self._gpu_count = await to_thread(self._gpu_count_fn)
        return self._gpu_count

    async def _read_gpu_memory(
        self, request: LaunchRequest, gpu_count: int
    ) -> tuple[GpuMemory, ...]:
        """Free memory per GPU now, when the launch has to choose one (NVML, in a thread)."""
        if request.gpu is not None or gpu_count <= 0:
            return ()
        try:
            return tuple(await to_thread(self._gpu_memory))
        except Exception as exc:  # NVML errors of any kind: choose by instance count
            log.info("GPU memory readings failed: %s", exc)
            return ()

    def url(self, record: InstanceRecord) -> str:
        return url_for(record, self._hostname())

    def tunnel(self, record: InstanceRecord) -> str:
        return tunnel_for(record, self._username(), self._hostname())

    def view(
        self,
        record: InstanceRecord,
        queue: int | None = None,
        usage: tuple[float | None, int | None] = (None, None),
    ) -> InstanceView:
        started = record.child_started_at
        uptime = self.clock() - started if record.live and started is not None else None
        return InstanceView(
            record, self.url(record), self.tunnel(record), uptime, queue, usage[0], usage[1]
        )

    def _tag(self, tag: str | None) -> str:
        if tag is None:
            from comfy_tui.store.version_records import get_default

            tag = get_default(self.paths)
            if tag is None:
                raise NotFoundError(
                    "no version given and no default version set "
                    "(install one, or run: comfy-tui default TAG)"
                )
        return validate_tag(tag)

    def _version(self, tag: str) -> VersionRecord:
        from comfy_tui.store.version_records import load_record

        version = load_record(self.paths, tag)
        if version is None:
            raise NotFoundError(f"version {tag} is not installed (see: comfy-tui versions)")
        return version

    # --- launch ---------------------------------------------------------------------------
    async def start(
        self, request: LaunchRequest, *, previous: InstanceRecord | None = None
    ) -> InstanceRecord:
        """Plan, record and spawn one instance; returns once ComfyUI's process exists.

        The version's lock is held shared from the check that it is installed until the run
        record is written and the supervisor spawned, so no remove or restore runs between."""
        from comfy_tui.services.instances.launch import Plan, plan_launch
        from comfy_tui.services.instances.spawn import spawn_supervisor, wait_for_child

        tag = await to_thread(self._tag, request.version)
        gpu_count = await self.gpu_count()
        async with self.guard.launching(tag):
            version = await to_thread(self._version, tag)
            plan = Plan(
                version=version,
                listen=self.settings.listen,
                base_port=self.settings.base_port,
                gpu_count=gpu_count,
                model_paths_config=await self._model_paths(version.tag),
                previous=previous,
                gpu_memory=await self._read_gpu_memory(request, gpu_count),
                separate_outputs=self.settings.separate_outputs,
            )
            spawn = functools.partial(
                spawn_supervisor,
                pass_env=self.settings.pass_env,
                log_limits=(self.settings.log_max_bytes, self.settings.log_keep),
            )
            record = await to_thread(plan_launch, self.paths, request, plan, spawn)
        record = await to_thread(wait_for_child, self.paths, record.id)
        await to_thread(prune_finished, self.paths)
        return record

    async def wait_ready(
        self, instance_id: str, timeout: float | None = None
    ) -> AsyncIterator[Event]:
        """Startup log lines and progress until ready (Finished); raises ProcessError if not."""
        from comfy_tui.events import Finished, LogLine
        from comfy_tui.services.instances.ready import wait_ready

        record = await to_thread(require_instance, self.paths, instance_id)
        limit = self.settings.ready_timeout if timeout is None else timeout
        async for event in wait_ready(self.paths, instance_id, limit, self.stop, self.url(record)):
            if isinstance(event, Finished):
                for problem in await self._wiring_problems(record):
                    yield LogLine(f"model library wiring: {problem}", source=instance_id)
            yield event

    async def _wiring_problems(self, record: InstanceRecord) -> list[str]:
        """Ask the running ComfyUI where it looks for models (`/internal/folder_paths`) and
        say what it lacks of the library; nothing when it does not answer (older versions)."""
        if self._wiring is None:
            return []
        import aiohttp  # only here: `ps` and `stop` never need it

        try:
            async with new_session() as session:
                reported = await get_json(session, f"{base_url(record)}/internal/folder_paths")
        except (TimeoutError, aiohttp.ClientError, ValueError, OSError):
            return []
        return self._wiring(reported) if isinstance(reported, Mapping) else []

    async def launch(self, request: LaunchRequest) -> AsyncIterator[Event]:
        """`start` then `wait_ready`, as one job for the TUI."""
        from comfy_tui.events import LogLine

        record = await self.start(request)
        yield LogLine(f"started {record.id} on port {record.port}", source=record.id)
        async for event in self.wait_ready(record.id):
            yield event

    # --- stop / restart -------------------------------------------------------------------
    async def stop(self, instance_id: str, *, keep_wanted: bool = False) -> InstanceRecord:
        """SIGINT, grace (`stop_grace`), SIGKILL; returns the final record."""
        return (await self.stop_report(instance_id, keep_wanted=keep_wanted)).record

    async def stop_report(self, instance_id: str, *, keep_wanted: bool = False) -> StopReport:
        """`stop`, and which processes had to be killed after the grace period (ComfyUI's
        leftover children too: nothing of the instance runs afterwards). The user no longer
        wants it up (`up` leaves it alone) unless `keep_wanted` (a shutdown)."""
        from comfy_tui.services.instances.stop import stop_instance

        await to_thread(require_instance, self.paths, instance_id)
        report = await stop_instance(self.paths, instance_id, self.settings.stop_grace)
        if keep_wanted or not report.record.wanted:
            return report
        record = await to_thread(
            update_instance, self.paths, instance_id, lambda r: r.evolve(wanted=False)
        )
        return dataclasses.replace(report, record=record)

    async def restart(self, instance_id: str) -> AsyncIterator[Event]:
        """Stop (when live), then launch again with the same id and everything it was launched
        with: port, GPU, listen address, extra flags, environment, auto-restart. Another port
        only when that one is taken now, and a LogLine says so. Works for an exited one too."""
        from comfy_tui.events import LogLine
        from comfy_tui.services.instances.launch import request_of

        old = await self.stop(instance_id)
        yield LogLine(f"stopped {instance_id}; starting it again", source=instance_id)
        record = await self.start(request_of(old), previous=old)
        if record.port != old.port:
            yield LogLine(
                f"port {old.port} is taken now: {instance_id} runs on port {record.port}",
                source=instance_id,
            )
        async for event in self.wait_ready(record.id):
            yield event

    async def resolve(self, target: str) -> list[InstanceRecord]:
        """Live instances named by `target`: an id, a unique id prefix, or a version tag."""
        records = await to_thread(list_instances, self.paths)
        exact = [r for r in records if r.id == target]
        if exact:
            return exact
        live = [r for r in records if r.live]
        by_tag = [r for r in live if r.version == target]
        if by_tag:
            return by_tag
        prefixed = [r for r in records if r.id.startswith(target)] if len(target) >= 2 else []
        if len(prefixed) == 1:
            return prefixed
        if len(prefixed) > 1:
            ids = ", ".join(r.id for r in prefixed)
            raise ValidationError(f"'{target}' matches several instances ({ids}); give more")
        raise NotFoundError(f"no instance or running version matches '{target}' (see: ps)")

    # --- state ----------------------------------------------------------------------------
    def reconcile(self) -> Reconciled:
        """Blocking: every record with "is ComfyUI alive"; the dead ones are marked exited."""
        return self._watcher.reconcile()

    def quiet_views(self, reconciled: Reconciled) -> list[InstanceView] | None:
        """What `refresh(reconciled)` returns when nothing in it is alive: nothing to probe
        or measure, so no event loop is needed (`ps` with nothing running). None otherwise."""
        if any(alive for _, alive in reconciled):
            return None
        self.last_views = [self.view(record) for record, _ in reconciled]
        return self.last_views

    async def refresh(self, reconciled: Reconciled | None = None) -> list[InstanceView]:
        """Reattach to what runs, mark the rest exited, probe health and read usage
        (`reconciled`: what `reconcile` returned just now, not done again)."""
        records, probes, usage = await self._watcher.refresh(reconciled)
        views = [
            self.view(
                r,
                probes[r.id].queue if r.id in probes else None,
                usage.get(r.id, (None, None)),
            )
            for r in records
        ]
        self.last_views = views
        return views

    async def running_versions(self) -> Mapping[str, int]:
        """Version tag → how many of its instances are alive now."""
        return await self.guard.running_versions()

    async def is_running(self, tag: str) -> bool:
        return tag in await self.running_versions()

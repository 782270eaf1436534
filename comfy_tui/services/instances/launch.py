"""Plan one launch and save its run record, under one lock so parallel launches never pick
the same port (blocking; call through asyncio.to_thread).

The port is the one asked for, else the first free one from `base_port`; either way it must
bind and no live record may hold it. The GPU is the one asked for, else the one with the most
free memory (ties: the fewest of our instances).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from comfy_tui.errors import ValidationError
from comfy_tui.paths import DataPaths
from comfy_tui.services import faults
from comfy_tui.services.instances.command import build_command
from comfy_tui.services.instances.gpus import GpuMemory, choose_gpu
from comfy_tui.services.instances.identity import any_alive
from comfy_tui.services.instances.output_folder import make_output_folder
from comfy_tui.services.instances.ports import check_listen, pick_port, port_is_free
from comfy_tui.store.instance_records import (
    InstanceRecord,
    launch_lock,
    list_instances,
    new_instance_id,
    save_instance,
    update_instance,
)
from comfy_tui.store.jsonfile import file_lock
from comfy_tui.store.version_records import VersionRecord
from comfy_tui.validate import validate_env, validate_gpu_index, validate_listen, validate_port


@dataclass(frozen=True)
class LaunchRequest:
    """What the user asked for. None means "choose for me" (default version, free port...)."""

    version: str | None = None
    port: int | None = None
    gpu: int | None = None
    listen: str | None = None
    extra_args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    auto_restart: bool = False


@dataclass(frozen=True)
class Plan:
    """Everything `plan_launch` needs besides the request."""

    version: VersionRecord
    listen: str  # the default listen address (settings)
    base_port: int
    gpu_count: int
    model_paths_config: Path | None = None
    previous: InstanceRecord | None = None  # a restart keeps the id, the port and the counts
    gpu_memory: tuple[GpuMemory, ...] = ()  # free memory per GPU now (NVML), for the choice
    separate_outputs: bool = False  # each instance gets its own output/ (a setting)


def mark_dead_records(paths: DataPaths, records: list[InstanceRecord]) -> list[InstanceRecord]:
    """Records in a live state whose processes are all gone become `exited`; return the live."""
    live = []
    now = time.time()
    for record in records:
        if not record.live:
            continue
        if any_alive(record):
            live.append(record)
            continue
        update_instance(
            paths,
            record.id,
            lambda r: (
                r.evolve(state="exited", reason=r.reason or "no longer running", ended_at=now)
                if r.live and not any_alive(r)
                else None
            ),
        )
    return live


def _choose_port(req: LaunchRequest, plan: Plan, listen: str, live: list[InstanceRecord]) -> int:
    held = {r.port: r.id for r in live}
    if plan.previous is not None and req.port is not None:  # a restart keeps its port if it can
        if req.port not in held and port_is_free(listen, req.port):
            return req.port
        return pick_port(listen, plan.base_port, held)
    if req.port is not None:
        port = validate_port(req.port)
        if port in held:
            raise ValidationError(f"port {port} is used by instance {held[port]}")
        if not port_is_free(listen, port):
            raise ValidationError(
                f"port {port} is already in use by another program; choose another port"
            )
        return port
    return pick_port(listen, plan.base_port, held)


def _choose_gpu(
    req: LaunchRequest, plan: Plan, live: list[InstanceRecord]
) -> tuple[int | None, str]:
    if req.gpu is not None:
        return validate_gpu_index(req.gpu, plan.gpu_count), "asked for"
    use = Counter(r.gpu for r in live if r.gpu is not None)
    return choose_gpu(plan.gpu_count, plan.gpu_memory, use)


def plan_launch(
    paths: DataPaths,
    req: LaunchRequest,
    plan: Plan,
    spawn: Callable[[DataPaths, InstanceRecord], InstanceRecord],
) -> InstanceRecord:
    """Validate, choose port and GPU, build the command, save the record (state starting) and
    `spawn` it, all under the launch lock."""
    listen = validate_listen(req.listen or plan.listen)
    check_listen(listen)  # a foreign address fails now, not after a scan of every port
    user_env = validate_env(dict(req.env))
    faults.pause_point("launch.checked")  # tests hold the race open here: checked, not saved
    with file_lock(launch_lock(paths)):
        live = mark_dead_records(paths, list_instances(paths))
        previous = plan.previous
        if previous is not None:
            live = [r for r in live if r.id != previous.id]
        port = _choose_port(req, plan, listen, live)
        gpu, gpu_reason = _choose_gpu(req, plan, live)
        instance_id = previous.id if previous else new_instance_id(paths)
        instance_dir = paths.instance_dir(instance_id)
        command = build_command(
            plan.version,
            port=port,
            listen=listen,
            gpu=gpu,
            gpu_count=plan.gpu_count,
            instance_dir=instance_dir,
            extra_args=req.extra_args,
            user_env=user_env,
            model_paths_config=plan.model_paths_config,
            separate_outputs=plan.separate_outputs,
        )
        if "--user-directory" in command.argv:
            (instance_dir / "user").mkdir(parents=True, exist_ok=True)
        make_output_folder(command.argv, plan.version.path)
        log = paths.instance_log(instance_id)
        record = InstanceRecord(
            id=instance_id,
            version=plan.version.tag,
            port=port,
            listen=listen,
            gpu=command.gpu,
            cpu_only=command.cpu_only,
            argv=command.argv,
            cwd=plan.version.path,
            log_path=str(log),
            log_start=log.stat().st_size if log.exists() else 0,
            started_at=previous.started_at if previous else time.time(),
            env=command.env,
            user_env=user_env,
            extra_args=tuple(req.extra_args),
            auto_restart=req.auto_restart,
            restarts=previous.restarts + 1 if previous else 0,
            reboots=previous.reboots if previous else 0,
            wanted=True,
            gpu_reason=gpu_reason if command.gpu is not None else "",
        )
        save_instance(paths, record)
        return spawn(paths, record)


def request_of(record: InstanceRecord) -> LaunchRequest:
    """The request that relaunches `record` with the same settings."""
    return LaunchRequest(
        version=record.version,
        port=record.port,
        gpu=None if record.cpu_only else record.gpu,
        listen=record.listen,
        extra_args=record.extra_args,
        env=dict(record.user_env),
        auto_restart=record.auto_restart,
    )

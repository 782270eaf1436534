"""Run records of launched ComfyUI instances: `instances/<id>.json`, one per instance.

A record is written (atomically, under its lock) before anything is spawned, and every later
change goes through `update_instance`, so the launcher, the detached supervisor and any
comfy-tui process watching the instance never lose each other's writes. A record in a live
state (`starting`, `running`, `unhealthy`, `stopping`) names the processes to check: ComfyUI's
pid and create time, and the supervisor that leads the process group.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from comfy_tui.errors import MetadataError, NotFoundError
from comfy_tui.paths import DataPaths
from comfy_tui.store.jsonfile import backup_path, lock_path, read_json, update_json, write_json

SCHEMA = 1

State = Literal["starting", "running", "unhealthy", "stopping", "exited", "crashed"]
LIVE_STATES: frozenset[str] = frozenset({"starting", "running", "unhealthy", "stopping"})
TERMINAL_STATES: frozenset[str] = frozenset({"exited", "crashed"})
KEEP_FINISHED = 30
"""Finished records kept; older ones (with their log and instance folder) are pruned."""


@dataclass(frozen=True)
class InstanceRecord:
    """Everything needed to find, watch, stop and relaunch one instance."""

    id: str
    version: str
    port: int
    listen: str
    gpu: int | None  # None: CPU only, or no GPU chosen
    argv: tuple[str, ...]  # ComfyUI's full command line: python main.py --port ...
    cwd: str  # the version checkout
    log_path: str
    started_at: float  # first launch of this id (unix time)
    env: dict[str, str] = field(default_factory=dict)  # every variable we set for ComfyUI
    user_env: dict[str, str] = field(default_factory=dict)  # the caller's part of `env`
    extra_args: tuple[str, ...] = ()  # the caller's extra ComfyUI flags
    auto_restart: bool = False
    cpu_only: bool = False
    log_start: int = 0  # where this launch's output begins in the log (bytes)
    state: State = "starting"
    pid: int | None = None  # ComfyUI
    create_time: float | None = None  # ComfyUI's process create time
    pgid: int | None = None  # the process group (led by the supervisor)
    supervisor_pid: int | None = None
    supervisor_create_time: float | None = None
    child_started_at: float | None = None  # the latest (re)start, for the uptime
    ended_at: float | None = None
    exit_code: int | None = None
    reason: str = ""  # why it stopped, crashed or failed to start (one line)
    restarts: int = 0  # relaunches after a crash or by the user
    restart_times: tuple[float, ...] = ()  # recent automatic restarts (loop protection)
    reboots: int = 0  # relaunches asked for by ComfyUI-Manager
    stop_requested: bool = False
    wanted: bool = False  # the user wants it up: `launch` sets it, `stop` clears it (`up`)
    gpu_reason: str = ""  # why this GPU: "asked for", or the free memory that chose it

    @property
    def live(self) -> bool:
        return self.state in LIVE_STATES

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("argv", "extra_args", "restart_times"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], source: Path) -> InstanceRecord:
        try:
            record = cls(
                **{
                    **data,
                    "argv": tuple(data.get("argv", ())),
                    "extra_args": tuple(data.get("extra_args", ())),
                    "restart_times": tuple(data.get("restart_times", ())),
                    "env": dict(data.get("env", {})),
                    "user_env": dict(data.get("user_env", {})),
                }
            )
        except TypeError as exc:
            raise MetadataError(f"run record {source} has unexpected fields ({exc})") from exc
        if record.state not in LIVE_STATES | TERMINAL_STATES:
            raise MetadataError(f"run record {source} has an unknown state {record.state!r}")
        return record

    def evolve(self, **changes: Any) -> InstanceRecord:
        return replace(self, **changes)


def save_instance(paths: DataPaths, record: InstanceRecord) -> None:
    write_json(paths.instance_record(record.id), record.to_json(), schema=SCHEMA)


def load_instance(paths: DataPaths, instance_id: str) -> InstanceRecord | None:
    path = paths.instance_record(instance_id)
    if not path.exists() and not backup_path(path).exists():
        return None
    try:
        return InstanceRecord.from_json(read_json(path, schema=SCHEMA), path)
    except FileNotFoundError:
        return None


def require_instance(paths: DataPaths, instance_id: str) -> InstanceRecord:
    record = load_instance(paths, instance_id)
    if record is None:
        raise NotFoundError(f"no instance '{instance_id}' (see: comfy-tui ps)")
    return record


def launch_lock(paths: DataPaths) -> Path:
    """Held (exclusively) from planning a launch until its supervisor runs; a watcher takes it
    shared, so a record saved but not yet spawned is never mistaken for a dead one."""
    return paths.instances_dir() / "launch"


def list_instances(paths: DataPaths) -> list[InstanceRecord]:
    """Every record, oldest launch first. A record that cannot be read is skipped."""
    records = []
    for path in paths.instances_dir().glob("*.json"):
        with contextlib.suppress(FileNotFoundError, MetadataError):
            records.append(InstanceRecord.from_json(read_json(path, schema=SCHEMA), path))
    return sorted(records, key=lambda r: (r.started_at, r.id))


def update_instance(
    paths: DataPaths,
    instance_id: str,
    fn: Callable[[InstanceRecord], InstanceRecord | None],
) -> InstanceRecord:
    """Read, change and write one record under its lock. `fn` returns None to leave it as is."""
    path = paths.instance_record(instance_id)
    result: list[InstanceRecord] = []

    def apply(data: dict[str, Any]) -> dict[str, Any]:
        if not data:
            raise NotFoundError(f"no instance '{instance_id}' (see: comfy-tui ps)")
        current = InstanceRecord.from_json(data, path)
        new = fn(current)
        result.append(new or current)
        return (new or current).to_json()

    update_json(path, apply, schema=SCHEMA, default={})
    return result[0]


def new_instance_id(paths: DataPaths) -> str:
    """A short id no record uses yet, e.g. `c3f9a1` (always starts with a letter)."""
    while True:
        candidate = "c" + os.urandom(3).hex()[:5]
        if load_instance(paths, candidate) is None:
            return candidate


def delete_instance(paths: DataPaths, instance_id: str) -> None:
    """Forget an instance: its record, log and folder (callers only do this to finished ones)."""
    path = paths.instance_record(instance_id)
    for p in (path, backup_path(path), lock_path(path)):
        p.unlink(missing_ok=True)
    log = paths.instance_log(instance_id)
    for p in (log, *log.parent.glob(log.name + ".*")):
        p.unlink(missing_ok=True)
    import shutil  # bz2, lzma: not at every start

    shutil.rmtree(paths.instances_dir() / instance_id, ignore_errors=True)


def prune_finished(paths: DataPaths, keep: int = KEEP_FINISHED) -> list[str]:
    """Delete all but the `keep` most recent finished records; return the ids removed."""
    finished = [r for r in list_instances(paths) if not r.live and not r.wanted]
    finished.sort(key=lambda r: (r.ended_at or r.started_at, r.id))
    doomed = finished[: max(0, len(finished) - keep)]
    for record in doomed:
        delete_instance(paths, record.id)
    return [r.id for r in doomed]

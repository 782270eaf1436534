"""Start an instance's supervisor detached from us (blocking; call through asyncio.to_thread).

The supervisor gets its own session (so a hang-up or Ctrl-C in our terminal never reaches
it), stdin from /dev/null, and stdout+stderr appended to `logs/<id>.log` (mode 0600): no pipe
of ours is involved, so it keeps running when comfy-tui exits. A daemon thread reaps it if it
ends while we still run, so it never lingers as a zombie.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import comfy_tui
from comfy_tui.core.units import format_duration
from comfy_tui.errors import ProcessError
from comfy_tui.paths import DataPaths
from comfy_tui.services.childenv import child_environ
from comfy_tui.services.instances.identity import create_time, supervisor_alive
from comfy_tui.services.instances.logrotate import copy_truncate
from comfy_tui.services.instances.reasons import exit_reason
from comfy_tui.store.instance_records import InstanceRecord, load_instance, update_instance

SUPERVISOR_MODULE = "comfy_tui.services.instances.supervisor"
ROTATE_BYTES = 32 * 1024 * 1024
_PACKAGE_ROOT = Path(comfy_tui.__file__).resolve().parent.parent


def open_log(path: Path, limits: tuple[int, int] = (ROTATE_BYTES, 3)) -> int:
    """The log, opened for appending (mode 0600); rotated first when it is too big."""
    path.parent.mkdir(parents=True, exist_ok=True)
    max_bytes, keep = limits
    with contextlib.suppress(FileNotFoundError):
        if max_bytes > 0 and path.stat().st_size > max_bytes:
            copy_truncate(path, keep)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
    os.fchmod(fd, 0o600)
    return fd


def spawn_supervisor(
    paths: DataPaths,
    record: InstanceRecord,
    *,
    pass_env: Iterable[str] = (),
    log_limits: tuple[int, int] = (ROTATE_BYTES, 3),
) -> InstanceRecord:
    """Start the supervisor for `record` (already saved) and note its pid in the record.

    Its environment, which ComfyUI inherits, is ours without comfy-tui's secrets
    (`child_environ`) except the variables named in `pass_env`, plus the record's own."""
    fd = open_log(Path(record.log_path), log_limits)
    log_start = os.fstat(fd).st_size
    try:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        header = f"[comfy-tui] {stamp} launching {record.id}: {' '.join(record.argv)}\n"
        os.write(fd, header.encode("utf-8", errors="replace"))
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", SUPERVISOR_MODULE, str(paths.root), record.id),
                *(str(log_limits[0]), str(log_limits[1])),
            ],
            cwd=_PACKAGE_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=fd,
            stderr=fd,
            env=child_environ(keep=pass_env, extra=record.env),
            start_new_session=True,
            close_fds=True,
        )
    except OSError as exc:
        raise ProcessError(f"cannot start the supervisor for {record.id}: {exc}") from exc
    finally:
        os.close(fd)
    threading.Thread(target=proc.wait, name=f"reap-{record.id}", daemon=True).start()
    created = create_time(proc.pid)

    def note(r: InstanceRecord) -> InstanceRecord:
        if r.supervisor_pid is not None:  # it wrote itself already
            return r.evolve(log_start=log_start)
        return r.evolve(
            supervisor_pid=proc.pid,
            supervisor_create_time=created,
            pgid=proc.pid,
            log_start=log_start,
        )

    return update_instance(paths, record.id, note)


def wait_for_child(paths: DataPaths, instance_id: str, timeout: float = 15.0) -> InstanceRecord:
    """Wait until the supervisor has started ComfyUI (its pid is in the record), or ended."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        record = load_instance(paths, instance_id)
        if record is None:
            raise ProcessError(f"run record of {instance_id} vanished while starting")
        if record.pid is not None or not record.live:
            return record
        if record.supervisor_pid is not None and not supervisor_alive(record):
            return _mark_crashed(paths, record)
        if time.monotonic() > deadline:
            raise ProcessError(
                f"{instance_id}: the supervisor did not start ComfyUI in "
                f"{format_duration(timeout, precision=1)}"
            )
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def _mark_crashed(paths: DataPaths, record: InstanceRecord) -> InstanceRecord:
    """The supervisor died before it could start ComfyUI (or say why): record its last words."""
    reason = exit_reason(Path(record.log_path), record.log_start, None, record.port)

    def crashed(r: InstanceRecord) -> InstanceRecord | None:
        return r.evolve(state="crashed", reason=reason, ended_at=time.time()) if r.live else None

    return update_instance(paths, record.id, crashed)

"""Which processes are ours: a pid counts only together with the create time we recorded.

Pids are reused. Before any signal is sent, the process must be alive (not a zombie) and
its create time must match the one in the run record, so a stranger that got an old pid is
never touched. Groups are signalled through a member we have verified this way. psutil is
imported by the functions that read processes: `ps` with no instance never loads it.
"""

from __future__ import annotations

import contextlib
import os
import signal
from typing import TYPE_CHECKING

from comfy_tui.store.instance_records import InstanceRecord

if TYPE_CHECKING:
    import psutil

CREATE_TIME_TOLERANCE_S = 0.05


def create_time(pid: int) -> float | None:
    """The process's create time (unix seconds), or None when it is gone or a zombie."""
    import psutil

    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return None
        return proc.create_time()
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, ValueError):
        return None


def is_same_process(pid: int | None, created: float | None) -> bool:
    """True when `pid` is alive and is the process that was created at `created`."""
    if not pid or created is None:
        return False
    now = create_time(pid)
    return now is not None and abs(now - created) <= CREATE_TIME_TOLERANCE_S


def comfyui_alive(record: InstanceRecord) -> bool:
    return is_same_process(record.pid, record.create_time)


def supervisor_alive(record: InstanceRecord) -> bool:
    return is_same_process(record.supervisor_pid, record.supervisor_create_time)


def any_alive(record: InstanceRecord) -> bool:
    """Is anything of this instance still running (ComfyUI or its supervisor)?"""
    return comfyui_alive(record) or supervisor_alive(record)


def _group_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return None


def verified_group(record: InstanceRecord) -> int | None:
    """The process group to signal, proven ours by a live member with a matching create time.

    The supervisor leads the group; if it is gone, ComfyUI (still in the group) vouches for it.
    The kernel never hands out a pid as a new group id while that group still has members.
    """
    if not record.pgid:
        return None
    for pid, created in (
        (record.supervisor_pid, record.supervisor_create_time),
        (record.pid, record.create_time),
    ):
        if pid and is_same_process(pid, created) and _group_of(pid) == record.pgid:
            return record.pgid
    return None


def session_members(record: InstanceRecord) -> list[psutil.Process]:
    """Every process still in the instance's session, whatever its process group.

    The supervisor was started with `setsid`, so its pid (the record's `pgid`) is the session
    id of ComfyUI and of everything ComfyUI started (a custom node's worker), even after the
    supervisor and ComfyUI are gone. The kernel never reuses a pid while a session of that id
    has members, so a live process with that pid that is not our supervisor means our session
    is empty (and the one it leads is a stranger's). A member must be younger than the
    supervisor.
    """
    sid = record.pgid
    if not sid:
        return []
    leader = create_time(sid)
    ours = record.supervisor_create_time
    if leader is not None and (ours is None or abs(leader - ours) > CREATE_TIME_TOLERANCE_S):
        return []
    import psutil

    since = record.supervisor_create_time or record.started_at
    members = []
    me = os.getpid()
    for proc in psutil.process_iter(["create_time", "status"]):
        try:
            if proc.pid == me or os.getsid(proc.pid) != sid:
                continue
        except OSError:
            continue
        created = proc.info.get("create_time")
        if created is None or created < since - CREATE_TIME_TOLERANCE_S:
            continue
        if proc.info.get("status") == psutil.STATUS_ZOMBIE:
            continue
        members.append(proc)
    return members


def describe(proc: psutil.Process) -> str:
    """`4242 (python worker.py)`: a process for a one-line report."""
    import psutil

    try:
        words = proc.cmdline() or [proc.name()]
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        return str(proc.pid)
    shown = " ".join(os.path.basename(w) if i == 0 else w for i, w in enumerate(words[:3]))
    return f"{proc.pid} ({shown[:60]})"


def signal_members(members: list[psutil.Process], sig: signal.Signals) -> list[psutil.Process]:
    """Send `sig` to each member that is still the same process; the ones reached."""
    import psutil

    reached = []
    for proc in members:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            proc.send_signal(sig)  # psutil refuses a pid that was reused since
            reached.append(proc)
    return reached


def signal_instance(record: InstanceRecord, sig: signal.Signals) -> bool:
    """Send `sig` to the instance's process group; False when nothing of ours is left.

    Never signals a pid whose create time does not match the record.
    """
    group = verified_group(record)
    if group is not None:
        try:
            os.killpg(group, sig)
            return True
        except ProcessLookupError:
            return False
    # No verified group (e.g. a record from before the group existed): the process alone.
    if comfyui_alive(record) and record.pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(record.pid, sig)
            return True
    return False

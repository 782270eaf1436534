"""`ProcessTreeSampler`: CPU, RSS and VRAM of each ComfyUI instance's process tree.

An instance is a root pid plus all its descendants (ComfyUI may spawn helpers). CPU %
needs two readings of the same process, so `psutil.Process` objects are kept across
ticks (keyed by pid and checked against the process's create time, so a reused pid is
a new process). Processes that vanish mid-tick are skipped. VRAM comes from the GPU
readings' compute-process lists, matched by pid; NVML reports pids in the pid
namespace it runs in, so inside a container that does not share the host's pid
namespace a match may be missing (VRAM then reads 0, not a wrong number).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import psutil

from comfy_tui.services.monitor.readings import GpuReading, InstanceUsage

_GONE = (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied)


class ProcessTreeSampler:
    """Samples process trees; keep one instance for the whole session (CPU % needs history)."""

    def __init__(self) -> None:
        self._procs: dict[int, psutil.Process] = {}

    def sample(
        self, roots: Mapping[str, int], gpus: Sequence[GpuReading] = ()
    ) -> dict[str, InstanceUsage]:
        """Usage per instance id for ``roots`` (instance id -> root pid).

        ``gpus`` are this tick's GPU readings; without process lists VRAM is ``None``.
        A root that no longer runs gives ``alive=False`` and ``None`` readings.
        """
        seen: dict[int, psutil.Process] = {}
        vram_by_pid = _vram_by_pid(gpus)
        result: dict[str, InstanceUsage] = {}
        for instance_id, root_pid in roots.items():
            result[instance_id] = self._tree(instance_id, root_pid, seen, vram_by_pid)
        self._procs = seen
        return result

    def _process(
        self, pid: int, seen: dict[int, psutil.Process], fresh: psutil.Process | None = None
    ) -> tuple[psutil.Process, bool]:
        """A (possibly cached) Process for ``pid`` and whether it was known last tick.

        Process equality and ``is_running()`` compare (pid, create time), so a reused
        pid is not mistaken for the old process. ``fresh`` is a Process object just made
        for ``pid`` (by ``children()``): compared without another /proc read, and adopted
        when nothing usable is cached.
        """
        if pid in seen:
            return seen[pid], True
        cached = self._procs.get(pid)
        same = cached is not None and (
            cached == fresh if fresh is not None else cached.is_running()
        )
        if cached is not None and same:
            seen[pid] = cached
            return cached, True
        proc = fresh if fresh is not None else psutil.Process(pid)
        seen[pid] = proc
        return proc, False

    def _tree(
        self,
        instance_id: str,
        root_pid: int,
        seen: dict[int, psutil.Process],
        vram_by_pid: dict[int, list[tuple[int, int | None]]] | None,
    ) -> InstanceUsage:
        try:
            root, root_known = self._process(root_pid, seen)
            members = [root, *root.children(recursive=True)]
        except _GONE:
            return InstanceUsage(instance_id=instance_id, root_pid=root_pid, alive=False)
        pids: list[int] = []
        cpu = 0.0
        rss = 0
        for member in members:
            try:
                proc = member if member is root else self._process(member.pid, seen, member)[0]
                with proc.oneshot():
                    member_cpu = proc.cpu_percent(interval=None)
                    member_rss = proc.memory_info().rss
            except _GONE:
                continue
            pids.append(proc.pid)
            cpu += member_cpu
            rss += member_rss
        if not pids:
            return InstanceUsage(instance_id=instance_id, root_pid=root_pid, alive=False)
        vram, gpu_indices = _vram(pids, vram_by_pid)
        return InstanceUsage(
            instance_id=instance_id,
            root_pid=root_pid,
            alive=True,
            pids=tuple(pids),
            # a root seen for the first time has no CPU-time delta yet
            cpu_percent=round(cpu, 1) if root_known else None,
            rss_bytes=rss,
            vram_bytes=vram,
            gpu_indices=gpu_indices,
        )


def _vram_by_pid(gpus: Sequence[GpuReading]) -> dict[int, list[tuple[int, int | None]]] | None:
    """pid -> [(gpu index, used bytes)], or ``None`` when no GPU listed its processes."""
    lists = [gpu for gpu in gpus if gpu.processes is not None]
    if not lists:
        return None
    result: dict[int, list[tuple[int, int | None]]] = {}
    for gpu in lists:
        for proc in gpu.processes or ():
            result.setdefault(proc.pid, []).append((gpu.index, proc.used_memory_bytes))
    return result


def _vram(
    pids: Iterable[int], vram_by_pid: dict[int, list[tuple[int, int | None]]] | None
) -> tuple[int | None, tuple[int, ...]]:
    if vram_by_pid is None:
        return None, ()
    total = 0
    known = False
    indices: set[int] = set()
    for pid in pids:
        for index, used in vram_by_pid.get(pid, ()):
            indices.add(index)
            if used is not None:
                total += used
                known = True
    if indices and not known:
        return None, tuple(sorted(indices))  # on a GPU, but NVML could not say how much
    return total, tuple(sorted(indices))

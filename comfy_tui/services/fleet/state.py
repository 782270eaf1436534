"""What the fleet knows of one host: reachable or why not, GPUs, instances, disk free.

Built from the host's own `stats --json` and `ps --json` documents; a field the remote does not
send (an older comfy-tui) is left empty rather than failing the row.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from comfy_tui.core.fleet_hosts import HostSpec
from comfy_tui.core.units import format_bytes, format_bytes_pair


@dataclass(frozen=True)
class RemoteGpu:
    index: int
    name: str
    util_pct: float | None
    used_bytes: int | None
    total_bytes: int | None

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "utilization_gpu_pct": self.util_pct,
            "memory_used_bytes": self.used_bytes,
            "memory_total_bytes": self.total_bytes,
        }


@dataclass(frozen=True)
class RemoteInstance:
    id: str
    version: str
    state: str
    port: int | None
    gpu: int | None
    job: str | None
    """The job summary (`KSampler 14/30 · 2 queued`, `idle`), or None when not watched."""

    @property
    def live(self) -> bool:
        return self.state in ("running", "starting")

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "version": self.version,
            "state": self.state,
            "port": self.port,
            "gpu": self.gpu,
            "job": self.job,
        }


@dataclass(frozen=True)
class HostState:
    """One row of the Fleet screen and one object of `comfy-tui fleet --json`."""

    name: str
    target: str
    tags: tuple[str, ...]
    state: str
    """"ok", "down", "slow", "refused" (host key), "failed" (comfy-tui there failed),
    or "checking" (no answer yet)."""
    error: str | None = None
    version: str | None = None
    """The host's comfy-tui version (`comfy-tui 0.1.0` → "0.1.0")."""
    gpus: tuple[RemoteGpu, ...] = ()
    instances: tuple[RemoteInstance, ...] = ()
    disk_free_bytes: int | None = None
    gpu_note: str | None = None
    """Why a reachable host shows no GPU ("NVML library not found")."""
    forwards: Mapping[int, int] = field(default_factory=dict)
    """Remote port → local port of the SSH forwards open to this host."""

    @property
    def reachable(self) -> bool:
        return self.state == "ok"

    def with_forwards(self, forwards: Mapping[int, int]) -> HostState:
        return replace(self, forwards=dict(forwards))

    # --- one line of text per column (the CLI's table and the Fleet screen) ---------------
    def gpus_text(self) -> str:
        """`2× H100 50% 60.0/160.0 GiB` (utilisation averaged, memory summed)."""
        if not self.reachable:
            return "-"
        if not self.gpus:
            return self.gpu_note or "no GPU"
        names = {short_gpu_name(g.name) for g in self.gpus}
        name = names.pop() if len(names) == 1 else "GPUs"
        utils = [g.util_pct for g in self.gpus if g.util_pct is not None]
        util = f" {sum(utils) / len(utils):.0f}%" if utils else ""
        used = sum(g.used_bytes or 0 for g in self.gpus)
        total = sum(g.total_bytes or 0 for g in self.gpus)
        memory = f" {format_bytes_pair(used, total)}"
        return f"{len(self.gpus)}× {name}{util}{memory if total else ''}"

    @property
    def reason(self) -> str:
        """The error without the host name in front (the row already names the host)."""
        return (self.error or self.state).removeprefix(f"{self.name}: ")

    def instances_text(self) -> str:
        """`v0.3.77 :8188 KSampler 3/20, v0.3.76 :8189` (live ones), or `none`."""
        if not self.reachable:
            return self.reason
        live = [i for i in self.instances if i.live]
        if not live:
            return "none"
        parts = []
        for inst in live:
            text = f"{inst.version} :{inst.port}"
            if inst.state != "running":
                text += f" {inst.state}"
            if inst.job and inst.job != "idle":
                text += f" {inst.job}"
            parts.append(text)
        return ", ".join(parts)

    def disk_text(self) -> str:
        return format_bytes(self.disk_free_bytes) if self.reachable else "-"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ssh": self.target,
            "tags": list(self.tags),
            "state": self.state,
            "reachable": self.reachable,
            "error": self.error,
            "comfy_tui_version": self.version,
            "gpus": [g.to_json() for g in self.gpus],
            "gpu_note": self.gpu_note,
            "instances": [i.to_json() for i in self.instances],
            "disk_free_bytes": self.disk_free_bytes,
            "forwards": {str(k): v for k, v in self.forwards.items()},
        }


def short_gpu_name(name: str) -> str:
    """`NVIDIA H100 80GB HBM3` → `H100`: the words before the memory size, no vendor."""
    words = name.removeprefix("NVIDIA ").split()
    kept = []
    for word in words:
        if re.fullmatch(r"\d+GB", word):
            break
        kept.append(word)
    return " ".join(kept) or name


def checking(spec: HostSpec) -> HostState:
    return HostState(spec.name, spec.target, spec.tags, "checking")


def failed(spec: HostSpec, state: str, error: str) -> HostState:
    return HostState(spec.name, spec.target, spec.tags, state, error=error)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _num(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if ok else None


def _gpus(stats: Mapping[str, Any]) -> tuple[RemoteGpu, ...]:
    out = []
    for gpu in stats.get("gpus") or ():
        if isinstance(gpu, Mapping):
            out.append(
                RemoteGpu(
                    _int(gpu.get("index")) or 0,
                    str(gpu.get("name") or "GPU"),
                    _num(gpu.get("utilization_gpu_pct")),
                    _int(gpu.get("memory_used_bytes")),
                    _int(gpu.get("memory_total_bytes")),
                )
            )
    return tuple(out)


def _disk_free(stats: Mapping[str, Any]) -> int | None:
    """Free bytes of the disk holding the host's data directory (the first one listed)."""
    system = stats.get("system")
    disks = system.get("disks") if isinstance(system, Mapping) else None
    if isinstance(disks, list) and disks and isinstance(disks[0], Mapping):
        return _int(disks[0].get("free_bytes"))
    return None


def _instances(ps: Sequence[Any]) -> tuple[RemoteInstance, ...]:
    out = []
    for item in ps:
        if not isinstance(item, Mapping):
            continue
        job = item.get("job")
        out.append(
            RemoteInstance(
                str(item.get("id") or "?"),
                str(item.get("version") or "?"),
                str(item.get("state") or "?"),
                _int(item.get("port")),
                _int(item.get("gpu")),
                str(job["summary"]) if isinstance(job, Mapping) and job.get("summary") else None,
            )
        )
    return tuple(out)


def from_remote(spec: HostSpec, version_line: str, stats: Any, ps: Any) -> HostState:
    """The state of a host that answered: its `--version` line and its two documents."""
    stats_doc: Mapping[str, Any] = stats if isinstance(stats, Mapping) else {}
    info = stats_doc.get("gpu_info")
    note = None
    if isinstance(info, Mapping) and not info.get("available"):
        note = str(info.get("reason") or "no GPU")
    version = version_line.strip().removeprefix("comfy-tui").strip() or None
    return HostState(
        spec.name,
        spec.target,
        spec.tags,
        "ok",
        version=version,
        gpus=_gpus(stats_doc),
        instances=_instances(ps if isinstance(ps, list) else []),
        disk_free_bytes=_disk_free(stats_doc),
        gpu_note=note,
    )

"""`ReplayBackend`: plays back recorded or hand-built GPU readings, one frame per tick.

Used by tests, screen snapshots and demos so that a machine without a GPU renders the
monitor exactly as a real one would. Frames come either from an in-memory list of
`GpuReading` tuples (a 2-GPU box, a no-GPU box, anything a test needs) or from the
recording format of ``tests/fixtures/nvml_h200.json``: ``{"system": {...}, "samples":
[{"label", "t", "devices": [{field: {"value", "error", "call_us"}}]}]}``, where a field
with an ``error`` reads as ``None``.
"""

from __future__ import annotations

import ast
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from comfy_tui.services.monitor.readings import GpuInfo, GpuProcess, GpuReading

NO_GPU_REASON = "no NVIDIA GPU (NVML library not found)"

_PSTATE_UNKNOWN = 32


def _field(device: Mapping[str, Any], name: str) -> Any:
    """The recorded value of one field, or ``None`` when it is absent or recorded an error."""
    entry = device.get(name)
    if not isinstance(entry, Mapping) or entry.get("error") is not None:
        return None
    return entry.get("value")


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _pair(value: Any) -> tuple[int, int] | None:
    if isinstance(value, list | tuple) and len(value) == 2:
        first, second = _int(value[0]), _int(value[1])
        if first is not None and second is not None:
            return first, second
    return None


def _process(item: Any) -> GpuProcess | None:
    # The recorder stored pynvml's process objects as str(obj), i.e. a dict repr.
    if isinstance(item, str):
        try:
            item = ast.literal_eval(item)
        except (ValueError, SyntaxError):
            return None
    if not isinstance(item, Mapping):
        return None
    pid = _int(item.get("pid"))
    return None if pid is None else GpuProcess(pid, _int(item.get("usedGpuMemory")))


def reading_from_recording(
    index: int, device: Mapping[str, Any], *, include_pcie: bool = False
) -> GpuReading:
    """One recorded device (``{field: {"value", "error", "call_us"}}``) as a `GpuReading`."""
    memory = _field(device, "memory")
    util = _field(device, "utilization")
    memory = memory if isinstance(memory, Mapping) else {}
    util = util if isinstance(util, Mapping) else {}
    power_mw = _int(_field(device, "power_usage_mw"))
    limit_mw = _int(_field(device, "power_limit_mw"))
    pstate = _int(_field(device, "pstate"))
    raw_procs = _field(device, "compute_processes")
    procs: tuple[GpuProcess, ...] | None = None
    if isinstance(raw_procs, list):
        procs = tuple(p for p in map(_process, raw_procs) if p is not None)
    mig = _pair(_field(device, "mig_mode"))
    name, uuid = _field(device, "name"), _field(device, "uuid")
    return GpuReading(
        index=index,
        name=name if isinstance(name, str) else None,
        uuid=uuid if isinstance(uuid, str) else None,
        memory_used_bytes=_int(memory.get("used")),
        memory_total_bytes=_int(memory.get("total")),
        utilization_gpu_pct=_int(util.get("gpu")),
        utilization_memory_pct=_int(util.get("memory")),
        temperature_c=_int(_field(device, "temperature_gpu")),
        power_draw_w=None if power_mw is None else power_mw / 1000.0,
        power_limit_w=None if limit_mw is None else limit_mw / 1000.0,
        clock_sm_mhz=_int(_field(device, "clock_sm_mhz")),
        clock_mem_mhz=_int(_field(device, "clock_mem_mhz")),
        pstate=None if pstate == _PSTATE_UNKNOWN else pstate,
        fan_speed_pct=_int(_field(device, "fan_speed_pct")),
        processes=procs,
        mig_enabled=None if mig is None else mig[0] == 1,
        compute_capability=_pair(_field(device, "cuda_compute_capability")),
        pcie_tx_kb_per_s=_int(_field(device, "pcie_throughput_tx_kbs")) if include_pcie else None,
        pcie_rx_kb_per_s=_int(_field(device, "pcie_throughput_rx_kbs")) if include_pcie else None,
    )


def info_from_recording(system: Mapping[str, Any], device_count: int) -> GpuInfo:
    """The recording's ``system`` block as a `GpuInfo`."""
    driver, nvml = _field(system, "driver_version"), _field(system, "nvml_version")
    if device_count == 0:
        return GpuInfo(available=False, reason=NO_GPU_REASON)
    return GpuInfo(
        available=True,
        driver_version=driver if isinstance(driver, str) else None,
        cuda_driver_version_raw=_int(_field(system, "cuda_driver_version")),
        nvml_version=nvml if isinstance(nvml, str) else None,
        device_count=device_count,
    )


class ReplayBackend:
    """A `GpuBackend` that returns prepared frames, one per `sample()` call.

    After the last frame it starts over (``cycle=True``) or keeps returning the last one.
    An empty frame list, or ``info.available`` false, is the "no NVIDIA GPU" state.
    """

    def __init__(
        self,
        frames: Sequence[Sequence[GpuReading]],
        info: GpuInfo | None = None,
        *,
        cycle: bool = True,
        labels: Sequence[str] | None = None,
    ) -> None:
        self._frames = tuple(tuple(frame) for frame in frames)
        if labels is not None and len(labels) != len(self._frames):
            raise ValueError("labels must name every frame")
        self._labels = tuple(labels) if labels is not None else None
        if info is None:
            count = len(self._frames[0]) if self._frames else 0
            info = (
                GpuInfo(available=True, device_count=count)
                if count
                else GpuInfo(available=False, reason=NO_GPU_REASON)
            )
        self._info = info
        self._cycle = cycle
        self._next = 0
        self._lock = threading.Lock()
        self.calls = 0
        """How many times `sample()` ran (tests and benches read it)."""

    @classmethod
    def no_gpu(cls, reason: str = NO_GPU_REASON) -> ReplayBackend:
        """The state of a machine without NVIDIA GPU."""
        return cls((), GpuInfo(available=False, reason=reason))

    @classmethod
    def from_recording(
        cls,
        data: Mapping[str, Any],
        *,
        labels: Sequence[str] | None = None,
        cycle: bool = True,
        include_pcie: bool = False,
    ) -> ReplayBackend:
        """Build from a parsed recording; ``labels`` picks samples (in that order).

        PCIe throughput is left out unless ``include_pcie``, like `NvmlBackend`'s default.
        """
        by_label: dict[str, list[GpuReading]] = {}
        order: list[str] = []
        for sample in data.get("samples", []):
            label = str(sample.get("label", len(order)))
            devices = sample.get("devices", [])
            by_label[label] = [
                reading_from_recording(i, dev, include_pcie=include_pcie)
                for i, dev in enumerate(devices)
            ]
            order.append(label)
        chosen = list(labels) if labels is not None else order
        missing = [label for label in chosen if label not in by_label]
        if missing:
            raise ValueError(f"recording has no sample labelled {missing[0]!r}")
        frames = [by_label[label] for label in chosen]
        count = len(frames[0]) if frames else 0
        info = info_from_recording(data.get("system", {}), count)
        return cls(frames if count else (), info, cycle=cycle, labels=chosen if count else None)

    @classmethod
    def from_fixture(
        cls,
        path: str | Path,
        *,
        labels: Sequence[str] | None = None,
        cycle: bool = True,
        include_pcie: bool = False,
    ) -> ReplayBackend:
        """Build from a recording file such as ``tests/fixtures/nvml_h200.json``."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls.from_recording(data, labels=labels, cycle=cycle, include_pcie=include_pcie)

    @property
    def labels(self) -> tuple[str, ...] | None:
        """The frames' labels when built from a recording."""
        return self._labels

    def info(self) -> GpuInfo:
        """The prepared `GpuInfo`."""
        return self._info

    def cuda_driver_version(self) -> tuple[int, int] | None:
        """(major, minor) from the prepared info."""
        return self._info.cuda_driver_version

    def compute_capability(self, index: int) -> tuple[int, int] | None:
        """Compute capability of device ``index`` as the first frame has it."""
        if not self._frames:
            return None
        for reading in self._frames[0]:
            if reading.index == index:
                return reading.compute_capability
        return None

    def sample(self, *, processes: bool = True) -> tuple[GpuReading, ...]:
        """The next frame (``processes=False`` blanks the process lists)."""
        with self._lock:
            self.calls += 1
            if not self._info.available or not self._frames:
                return ()
            frame = self._frames[self._next]
            if self._next + 1 < len(self._frames):
                self._next += 1
            elif self._cycle:
                self._next = 0
        if not processes:
            frame = tuple(replace(reading, processes=None) for reading in frame)
        return frame

    def close(self) -> None:
        """Nothing to release; replay starts from the first frame again."""
        with self._lock:
            self._next = 0

"""Deterministic `Monitor`s of made-up boxes for UI tests: the real H200 (idle, under load),
no GPU, two GPUs with one of our instances on them, eight GPUs.

GPU readings come from tests/fixtures/nvml_h200.json through `ReplayBackend`; host
readings from `ReplaySystem`; the clock is fixed and nothing sleeps for real, so a
test decides when each tick happens (`app.stats.sample_now()`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from comfy_tui.services.monitor import (
    GpuProcess,
    GpuReading,
    InstanceUsage,
    Monitor,
    ProcessTreeSampler,
    ReplayBackend,
)
from tests.fakes.fake_nvml import FIXTURE
from tests.fakes.fake_system import MODELS_DISK, ReplaySystem

EPOCH = 1_800_000_000.0

IDLE = ("idle",)
LOAD = ("idle",) * 30 + ("load_0",) + ("load_1", "load_2") * 20
"""Half a minute idle, then under load: 100 % utilisation, 7.2 GiB used by pid 418."""

INSTANCE_ID = "a1b2c3"
INSTANCE_LABEL = "v0.3.77 :8188"
INSTANCE_PID = 418
"""The pid that held the H200 in the recording; the fake instance owns it."""


class FixedProcesses(ProcessTreeSampler):
    """Answers every instance root with fixed usage (no real process is looked at)."""

    def __init__(self, usage: Mapping[str, InstanceUsage]) -> None:
        super().__init__()
        self.usage = dict(usage)

    def sample(
        self, roots: Mapping[str, int], gpus: Sequence[GpuReading] = ()
    ) -> dict[str, InstanceUsage]:
        return {iid: self.usage[iid] for iid in roots if iid in self.usage}


class GatedSleep:
    """A `Monitor` sleep that waits for the test to `release` each next tick.

    `until(predicate)` wakes whenever a sampler starts or stops waiting here, so a test waits
    on the sampler's own progress, never on the clock."""

    def __init__(self) -> None:
        self._gate: asyncio.Queue[None] = asyncio.Queue()
        self._changed = asyncio.Event()
        self.waiting = 0

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.waiting += 1
        self._notify()
        try:
            await self._gate.get()
        finally:
            self.waiting -= 1
            self._notify()

    async def until(self, predicate: Callable[[], bool]) -> None:
        """Return once ``predicate()`` holds, checking it each time `waiting` changes."""
        while True:
            changed = self._changed
            if predicate():
                return
            await changed.wait()

    def release(self, ticks: int = 1) -> None:
        for _ in range(ticks):
            self._gate.put_nowait(None)


def _monitor(
    backend: ReplayBackend,
    system: ReplaySystem,
    *,
    processes: ProcessTreeSampler | None = None,
    roots: Mapping[str, int] | None = None,
    sleep: GatedSleep | None = None,
) -> Monitor:
    fixed_roots = dict(roots or {})
    return Monitor(
        backend,
        system=system,
        processes=processes,
        instance_roots=lambda: fixed_roots,
        interval=1.0,
        clock=lambda: EPOCH,
        monotonic=lambda: 0.0,
        sleep=sleep if sleep is not None else GatedSleep(),
    )


def h200(labels: Sequence[str] = IDLE, *, sleep: GatedSleep | None = None) -> Monitor:
    """The recorded H200 box, one tick per label (the last one repeats)."""
    backend = ReplayBackend.from_fixture(FIXTURE, labels=list(labels), cycle=False)
    return _monitor(backend, ReplaySystem.from_fixture(labels), sleep=sleep)


def no_gpu(*, sleep: GatedSleep | None = None) -> Monitor:
    """A box without NVIDIA GPU (NVML library not found)."""
    return _monitor(ReplayBackend.no_gpu(), ReplaySystem.from_fixture(IDLE), sleep=sleep)


def _frames(labels: Sequence[str]) -> list[list[GpuReading]]:
    backend = ReplayBackend.from_fixture(FIXTURE, labels=list(labels), cycle=False)
    return [list(backend.sample()) for _ in labels]


def two_gpus(*, sleep: GatedSleep | None = None) -> Monitor:
    """GPU 0 under load from our instance (pid 418), GPU 1 idle with a foreign process."""
    loaded, idle = _frames(LOAD), _frames(("idle",) * len(LOAD))
    frames = []
    for hot, cold in zip(loaded, idle, strict=True):
        gpu1 = replace(
            cold[0],
            index=1,
            uuid="GPU-00000000-0000-0000-0000-000000000001",
            processes=(GpuProcess(90211, 1_310_720_000),),
        )
        frames.append([hot[0], gpu1])
    usage = InstanceUsage(
        instance_id=INSTANCE_ID,
        root_pid=INSTANCE_PID,
        alive=True,
        pids=(INSTANCE_PID,),
        cpu_percent=101.4,
        rss_bytes=3_435_973_837,
        vram_bytes=7_052_722_176,
        gpu_indices=(0,),
    )
    return _monitor(
        ReplayBackend(frames, cycle=False),
        ReplaySystem.from_fixture(LOAD, disks=(MODELS_DISK,)),
        processes=FixedProcesses({INSTANCE_ID: usage}),
        roots={INSTANCE_ID: INSTANCE_PID},
        sleep=sleep,
    )


def eight_gpus(*, sleep: GatedSleep | None = None) -> Monitor:
    """An 8-GPU box: GPU i at a different load, so every card reads differently."""
    loaded = _frames(LOAD)
    frames = []
    for frame in loaded:
        gpu = frame[0]
        frames.append(
            [
                replace(
                    gpu,
                    index=i,
                    uuid=f"GPU-00000000-0000-0000-0000-00000000000{i}",
                    utilization_gpu_pct=(gpu.utilization_gpu_pct or 0) * (i + 1) // 8,
                    temperature_c=(gpu.temperature_c or 0) - (7 - i) * 2,
                    processes=gpu.processes if i % 2 == 0 else (),
                )
                for i in range(8)
            ]
        )
    return _monitor(
        ReplayBackend(frames, cycle=False), ReplaySystem.from_fixture(LOAD), sleep=sleep
    )

"""Monitor: ticks on an injected clock, history, summary mode, lifecycle."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Mapping, Sequence

import pytest

from comfy_tui.services.monitor import (
    GpuProcess,
    GpuReading,
    InstanceUsage,
    Monitor,
    ProcessTreeSampler,
    ReplayBackend,
    StatsSample,
    SystemSampler,
    gpu_key,
    instance_key,
)
from tests.fakes.fake_nvml import FIXTURE
from tests.waiting import LAST_RESORT_S


class FakeTime:
    """A monotonic clock that only moves when the monitor sleeps (or a test moves it)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def wall(self) -> float:
        return 1_800_000_000.0 + self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class SpyBackend(ReplayBackend):
    """Replay that records the ``processes`` flag and can take fake time per tick."""

    def __init__(self, *args: object, cost: float = 0.0, time: FakeTime | None = None) -> None:
        super().__init__(*args)  # type: ignore[arg-type]
        self.process_flags: list[bool] = []
        self.closed = 0
        self.cost, self.time = cost, time

    def sample(self, *, processes: bool = True) -> tuple[GpuReading, ...]:
        self.process_flags.append(processes)
        if self.time is not None:
            self.time.now += self.cost
        return super().sample(processes=processes)

    def close(self) -> None:
        self.closed += 1
        super().close()


class SpyProcesses(ProcessTreeSampler):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def sample(
        self, roots: Mapping[str, int], gpus: Sequence[GpuReading] = ()
    ) -> dict[str, InstanceUsage]:
        self.calls += 1
        return super().sample(roots, gpus)


def make(
    ft: FakeTime, backend: ReplayBackend | None = None, **kwargs: object
) -> tuple[Monitor, ReplayBackend]:
    backend = backend if backend is not None else ReplayBackend.from_fixture(FIXTURE)
    monitor = Monitor(
        backend,
        system=SystemSampler(clock=ft.monotonic),
        clock=ft.wall,
        monotonic=ft.monotonic,
        sleep=ft.sleep,
        **kwargs,  # type: ignore[arg-type]
    )
    return monitor, backend


async def take(monitor: Monitor, n: int) -> list[StatsSample]:
    result = []
    async for sample in monitor.samples():
        result.append(sample)
        if len(result) == n:
            break
    return result


async def test_samples_yields_n_ticks_and_history_grows_to_n() -> None:
    ft = FakeTime()
    monitor, _ = make(ft, interval=1.0)
    samples = await take(monitor, 7)
    assert len(samples) == 7
    assert [s.timestamp for s in samples] == [1_800_000_000.0 + i for i in range(7)]
    assert ft.sleeps == [1.0] * 6
    assert len(monitor.history.series(gpu_key(0, "util_pct"))) == 7
    assert len(monitor.history.series(gpu_key(0, "temperature_c"))) == 7
    temps = [s.gpus[0].temperature_c for s in samples]
    assert temps == [38, 37, 60, 62, 41, 38, 37]  # the recording, cycled
    assert monitor.latest is samples[-1]


async def test_history_is_bounded() -> None:
    ft = FakeTime()
    monitor, _ = make(ft, history_points=5, interval=0.5)
    await take(monitor, 12)
    assert len(monitor.history.series(gpu_key(0, "util_pct"))) == 5


async def test_late_ticks_skip_missed_slots_instead_of_bursting() -> None:
    ft = FakeTime()
    backend = SpyBackend([[GpuReading(index=0)]], cost=2.5, time=ft)
    monitor, _ = make(ft, backend, interval=1.0)
    await take(monitor, 3)
    # tick at 0 ends at 2.5: slots 1 and 2 are missed, the next is 3
    assert ft.sleeps == [0.5, 0.5]


async def test_sample_contents_and_json_ready_gpu_info() -> None:
    ft = FakeTime()
    monitor, _ = make(ft)
    sample = await monitor.sample_once()
    assert sample.gpu_info.cuda_driver_version == (13, 0)
    assert sample.gpus[0].name == "NVIDIA H200"
    assert sample.system.memory.total_bytes > 0
    assert dict(sample.instances) == {}
    with pytest.raises(TypeError):
        sample.instances["x"] = InstanceUsage("x", 1, False)  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        sample.timestamp = 0.0  # type: ignore[misc]


async def test_instances_get_cpu_rss_and_vram() -> None:
    ft = FakeTime()
    me = os.getpid()
    frame = [GpuReading(index=0, processes=(GpuProcess(me, 123),))]
    monitor, _ = make(ft, ReplayBackend([frame]), instance_roots=lambda: {"me": me})
    first, second = await take(monitor, 2)
    usage = second.instances["me"]
    assert usage.alive and usage.vram_bytes == 123 and usage.gpu_indices == (0,)
    assert usage.rss_bytes is not None and usage.rss_bytes > 0
    assert first.instances["me"].cpu_percent is None and usage.cpu_percent is not None
    assert monitor.history.series(instance_key("me", "vram_bytes")) == [123.0, 123.0]
    monitor.set_instances({})
    await monitor.sample_once()
    assert instance_key("me", "vram_bytes") not in monitor.history


async def test_set_detail_false_skips_the_expensive_parts() -> None:
    ft = FakeTime()
    spy = SpyProcesses()
    backend = SpyBackend([[GpuReading(index=0, processes=(GpuProcess(1, 2),))]])
    asked = []

    def roots() -> dict[str, int]:
        asked.append(1)
        return {"me": os.getpid()}

    monitor, _ = make(ft, backend, processes=spy, instance_roots=roots)
    await monitor.sample_once()
    monitor.set_detail(False)
    assert monitor.detail is False
    cheap = []
    for _ in range(3):
        await asyncio.sleep(0.03)  # let CPU times advance (they tick in 10 ms steps)
        cheap.append(await monitor.sample_once())
    assert backend.process_flags == [True, False, False, False]
    assert spy.calls == 1 and len(asked) == 1
    for sample in cheap:
        assert sample.instances == {}
        assert sample.gpus[0].processes is None
        assert sample.system.per_cpu_percent is None
        assert sample.system.disk_io is None and sample.system.net_io is None
        assert sample.system.cpu_percent is not None  # the summary stays
        assert sample.gpus[0].index == 0
    # summary ticks do not throw away the instances' history
    assert instance_key("me", "rss_bytes") in monitor.history
    monitor.set_detail(True)
    full = await monitor.sample_once()
    assert "me" in full.instances and backend.process_flags[-1] is True


async def test_no_gpu_state() -> None:
    ft = FakeTime()
    monitor, _ = make(ft, ReplayBackend.no_gpu())
    sample = await monitor.sample_once()
    assert sample.gpus == ()
    assert not sample.gpu_info.available
    assert sample.gpu_info.reason == "no NVIDIA GPU (NVML library not found)"
    assert await monitor.gpu_info() == sample.gpu_info
    assert await monitor.cuda_driver_version() is None


async def test_one_consumer_at_a_time_and_cancellation() -> None:
    ft = FakeTime()
    monitor, _ = make(ft)
    gen = monitor.samples()
    await gen.__anext__()
    with pytest.raises(RuntimeError, match="consumer"):
        await monitor.samples().__anext__()
    await gen.aclose()

    async def consume() -> None:
        async for _ in monitor.samples():
            pass

    task = asyncio.create_task(consume())
    for _ in range(20):
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert len(await take(monitor, 2)) == 2  # free again


async def test_concurrent_sample_once_calls_are_serialised() -> None:
    ft = FakeTime()
    monitor, _ = make(ft)
    samples = await asyncio.gather(*(monitor.sample_once() for _ in range(4)))
    assert len(samples) == 4
    assert len(monitor.history.series(gpu_key(0, "util_pct"))) == 4


async def test_aclose_closes_the_backend_and_async_with() -> None:
    ft = FakeTime()
    backend = SpyBackend([[GpuReading(index=0)]])
    monitor, _ = make(ft, backend)
    async with monitor:
        await monitor.sample_once()
    assert backend.closed == 1


def test_interval_validation() -> None:
    ft = FakeTime()
    for bad in (0.0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            make(ft, interval=bad)
    monitor, _ = make(ft)
    monitor.set_interval(0.25)
    assert monitor.interval == 0.25
    with pytest.raises(ValueError):
        monitor.set_interval(0)


async def test_interval_change_takes_effect_next_tick() -> None:
    ft = FakeTime()
    monitor, _ = make(ft, interval=1.0)
    seen = 0
    async for _ in monitor.samples():
        seen += 1
        if seen == 2:
            monitor.set_interval(5.0)
        if seen == 4:
            break
    assert ft.sleeps == [1.0, 5.0, 5.0]


async def test_quiet_interval_while_detail_is_off() -> None:
    ft = FakeTime()
    monitor, _ = make(ft, interval=1.0, detail=False)
    monitor.set_quiet_interval(5.0)
    seen = 0
    async for _ in monitor.samples():
        seen += 1
        if seen == 3:
            monitor.set_detail(True)
        if seen == 5:
            break
    assert ft.sleeps == [5.0, 5.0, 1.0, 1.0]


async def test_turning_detail_on_cuts_a_quiet_wait_short() -> None:
    ft = FakeTime()
    never = asyncio.Event()
    waits: list[float] = []

    async def stuck(seconds: float) -> None:  # a quiet wait that would never end by itself
        waits.append(seconds)
        await never.wait()

    monitor, _ = make(ft, interval=1.0, detail=False)
    monitor._sleep = stuck  # the wait after the first tick never ends on its own
    monitor.set_quiet_interval(30.0)
    got: list[StatsSample] = []

    async def consume() -> None:
        async for sample in monitor.samples():
            got.append(sample)
            if len(got) == 2:
                break

    task = asyncio.create_task(consume())
    while not waits:
        await asyncio.sleep(0)
    assert waits == [30.0] and len(got) == 1
    monitor.set_detail(True)
    await asyncio.wait_for(task, LAST_RESORT_S)
    assert len(got) == 2

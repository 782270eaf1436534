"""Measure the monitoring service: tick costs and event-loop responsiveness.

Run from the repository root: ``.venv/bin/python bench/bench_monitor.py``. Prints:

- mean/p95 ms of one SystemSampler tick (detail and summary), one ReplayBackend tick, one
  NvmlBackend tick against the fake pynvml (wrapper overhead only: no real GPU here),
  one Monitor tick (replay backend, through asyncio.to_thread);
- process-tree sampling for trees of N processes (first tick and steady state);
- the event loop's worst lag while a Monitor samples at 10 Hz for 3 s with a backend
  that blocks 21 ms per call (an H200's PCIe query) in its worker thread, and, for
  contrast, the lag when that same call is made on the loop.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from comfy_tui.services.monitor import (  # noqa: E402
    GpuReading,
    Monitor,
    NvmlBackend,
    ProcessTreeSampler,
    ReplayBackend,
    SystemSampler,
)
from tests.fakes.fake_nvml import FIXTURE, FakeNvml  # noqa: E402


def stats_ms(samples: list[float]) -> str:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    return f"mean {statistics.fmean(ms):8.4f} ms  p95 {p95:8.4f} ms  (n={len(ms)})"


def time_calls(fn: Callable[[], object], n: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def bench_ticks() -> None:
    system = SystemSampler([ROOT, "/tmp"])
    print(f"SystemSampler tick (detail)      {stats_ms(time_calls(system.sample, 300))}")
    print(
        "SystemSampler tick (summary)     "
        f"{stats_ms(time_calls(lambda: system.sample(detail=False), 300))}"
    )
    replay = ReplayBackend.from_fixture(FIXTURE)
    print(f"ReplayBackend tick               {stats_ms(time_calls(replay.sample, 3000))}")
    fake_nvml = NvmlBackend(FakeNvml(label="load_1"))
    print(f"NvmlBackend tick (fake pynvml)   {stats_ms(time_calls(fake_nvml.sample, 3000))}")

    async def monitor_ticks() -> list[float]:
        monitor = Monitor(ReplayBackend.from_fixture(FIXTURE), disk_paths=[ROOT])
        out = []
        for i in range(300):
            t0 = time.perf_counter()
            await monitor.sample_once()
            if i >= 3:
                out.append(time.perf_counter() - t0)
        await monitor.aclose()
        return out

    print(f"Monitor tick (replay, to_thread) {stats_ms(asyncio.run(monitor_ticks()))}")


SPAWN = (
    "import subprocess, sys, time\n"
    "n = int(sys.argv[1])\n"
    "kids = [subprocess.Popen(['sleep', '120']) for _ in range(n)]\n"
    "print('ready', flush=True)\n"
    "time.sleep(120)\n"
)


def bench_process_trees() -> None:
    for size in (1, 10, 50, 200):
        root = subprocess.Popen(
            [sys.executable, "-c", SPAWN, str(size - 1)], stdout=subprocess.PIPE, text=True
        )
        try:
            assert root.stdout is not None
            root.stdout.readline()
            sampler = ProcessTreeSampler()
            t0 = time.perf_counter()
            usage = sampler.sample({"inst": root.pid})["inst"]
            first = time.perf_counter() - t0
            assert len(usage.pids) == size, (len(usage.pids), size)
            steady = time_calls(partial(sampler.sample, {"inst": root.pid}), 50, warmup=1)
            print(
                f"process tree, {size:3d} processes   first tick {first * 1000:7.3f} ms  "
                f"steady {stats_ms(steady)}"
            )
        finally:
            for child in psutil.Process(root.pid).children():
                child.kill()
            root.kill()
            root.wait()
            if root.stdout is not None:
                root.stdout.close()


class BlockingBackend(ReplayBackend):
    """Replay whose every sample() blocks 21 ms, like nvmlDeviceGetPcieThroughput."""

    def sample(self, *, processes: bool = True) -> tuple[GpuReading, ...]:
        time.sleep(0.021)
        return super().sample(processes=processes)


async def max_loop_lag(work: Awaitable[int]) -> tuple[list[float], int]:
    """Lateness of a 1 ms ticker on the loop while ``work`` runs, and work's result."""
    lags: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        while not stop.is_set():
            t0 = time.perf_counter()
            await asyncio.sleep(0.001)
            lags.append(time.perf_counter() - t0 - 0.001)

    task = asyncio.create_task(ticker())
    result = await work
    stop.set()
    await task
    return sorted(lags), result


def lag_text(lags: list[float]) -> str:
    p99 = lags[min(len(lags) - 1, round(0.99 * (len(lags) - 1)))]
    return f"max {lags[-1] * 1000:7.3f} ms  p99 {p99 * 1000:6.3f} ms"


def bench_loop_lag() -> None:
    async def run_monitor() -> int:
        monitor = Monitor(BlockingBackend.from_fixture(FIXTURE), interval=0.1, disk_paths=[ROOT])
        ticks = 0
        end = time.perf_counter() + 3.0
        async for _ in monitor.samples():
            ticks += 1
            if time.perf_counter() >= end:
                break
        await monitor.aclose()
        return ticks

    async def run_on_loop() -> int:
        backend = BlockingBackend.from_fixture(FIXTURE)
        ticks = 0
        end = time.perf_counter() + 3.0
        while time.perf_counter() < end:
            backend.sample()  # blocking call on the loop: what the monitor must not do
            ticks += 1
            await asyncio.sleep(0.1)
        return ticks

    async def main() -> None:
        idle_lag, _ = await max_loop_lag(asyncio.sleep(1.0, 0))
        lag, ticks = await max_loop_lag(run_monitor())
        blocking_lag, blocking_ticks = await max_loop_lag(run_on_loop())
        print(f"loop lag, idle loop (1 s)               {lag_text(idle_lag)}")
        print(f"loop lag, Monitor 10 Hz, 21 ms backend  {lag_text(lag)}  ({ticks} ticks in 3 s)")
        print(
            f"loop lag, same call ON the loop         {lag_text(blocking_lag)}  "
            f"({blocking_ticks} ticks in 3 s; for contrast)"
        )

    asyncio.run(main())


if __name__ == "__main__":
    print(f"python {sys.version.split()[0]}, {sys.platform}")
    bench_ticks()
    bench_process_trees()
    bench_loop_lag()

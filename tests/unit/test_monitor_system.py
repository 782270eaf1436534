"""SystemSampler on this machine: plausible ranges, deltas, disk dedupe, summary mode."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import psutil
import pytest

from comfy_tui.services.monitor import SystemSampler
from comfy_tui.services.monitor.system import DISKS_EVERY_S


def _burn(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_first_tick_has_no_rates_second_tick_has_them(tmp_path: Path) -> None:
    sampler = SystemSampler([tmp_path])
    first = sampler.sample()
    assert first.cpu_percent is None
    assert first.per_cpu_percent is None
    assert first.disk_io is None
    assert first.net_io is None
    _burn(0.05)
    second = sampler.sample()
    assert second.cpu_percent is not None and 0.0 <= second.cpu_percent <= 100.0
    assert second.per_cpu_percent is not None
    assert len(second.per_cpu_percent) == second.cpu_count == psutil.cpu_count()
    assert all(0.0 <= v <= 100.0 for v in second.per_cpu_percent)
    if psutil.disk_io_counters() is not None:
        assert second.disk_io is not None
        assert second.disk_io.read_bytes_per_s >= 0 and second.disk_io.write_bytes_per_s >= 0
    assert second.net_io is not None
    assert second.net_io.recv_bytes_per_s >= 0 and second.net_io.sent_bytes_per_s >= 0


def test_memory_load_and_swap_are_plausible() -> None:
    snap = SystemSampler().sample()
    mem = snap.memory
    assert mem.total_bytes > 0
    assert 0 < mem.used_bytes <= mem.total_bytes
    assert 0 < mem.available_bytes <= mem.total_bytes
    assert 0.0 <= mem.percent <= 100.0
    assert snap.load_avg is not None and all(v >= 0 for v in snap.load_avg)
    assert snap.swap is None or 0 <= snap.swap.used_bytes <= snap.swap.total_bytes


def test_disks_are_deduplicated_by_device(tmp_path: Path) -> None:
    a, b = tmp_path / "data", tmp_path / "models" / "not-created-yet"
    a.mkdir()
    snap = SystemSampler([a, b, a / "nested-missing"]).sample()
    assert len(snap.disks) == 1  # all on tmp_path's filesystem
    disk = snap.disks[0]
    assert disk.paths == (str(a), str(b), str(a / "nested-missing"))
    assert os.path.ismount(disk.mountpoint)
    assert disk.total_bytes > 0 and 0 <= disk.used_bytes <= disk.total_bytes
    assert 0 <= disk.free_bytes <= disk.total_bytes
    assert 0.0 <= disk.percent <= 100.0


def test_disks_on_different_filesystems_are_listed_apart(tmp_path: Path) -> None:
    paths = [tmp_path, Path("/proc")]  # /proc is its own filesystem on Linux
    devices = {os.stat(p).st_dev for p in paths}
    snap = SystemSampler(paths).sample()
    assert len(snap.disks) == len(devices)


def test_no_paths_no_disks_and_set_disk_paths(tmp_path: Path) -> None:
    sampler = SystemSampler()
    assert sampler.sample().disks == ()
    sampler.set_disk_paths([tmp_path])
    assert len(sampler.sample().disks) == 1


def test_summary_mode_skips_per_core_and_io_and_resets_their_baselines() -> None:
    sampler = SystemSampler()
    sampler.sample()
    _burn(0.03)
    cheap = sampler.sample(detail=False)
    assert cheap.per_cpu_percent is None and cheap.disk_io is None and cheap.net_io is None
    assert cheap.cpu_percent is not None  # the total stays
    _burn(0.03)
    back = sampler.sample()  # first detail tick after summary mode: no baseline yet
    assert back.per_cpu_percent is None and back.net_io is None
    _burn(0.03)
    assert sampler.sample().net_io is not None


def test_rates_use_the_injected_clock() -> None:
    now = [100.0]
    sampler = SystemSampler(clock=lambda: now[0])
    sampler.sample()
    now[0] += 2.0
    snap = sampler.sample()
    assert snap.net_io is not None  # computed over the fake 2 s window
    now[0] -= 5.0  # a clock that goes backwards gives no rate, not a negative one
    assert sampler.sample().net_io is None


def test_disk_space_is_read_every_few_seconds_not_every_tick(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = psutil.disk_usage

    def counted(path: str) -> Any:
        calls.append(path)
        return real(path)

    monkeypatch.setattr(psutil, "disk_usage", counted)
    now = [100.0]
    sampler = SystemSampler([tmp_path], clock=lambda: now[0])
    first = sampler.sample(detail=False).disks
    for _ in range(5):
        now[0] += 1.0
        assert sampler.sample(detail=False).disks == first, "the last reading is repeated"
    assert len(calls) == 1
    now[0] += DISKS_EVERY_S
    sampler.sample(detail=False)
    assert len(calls) == 2
    sampler.set_disk_paths([tmp_path, tmp_path / "other"])  # new paths are read at once
    sampler.sample(detail=False)
    assert len(calls) == 3

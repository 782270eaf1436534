"""Text helpers, the header summary, and the JSON form of a sample."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from comfy_tui.services.monitor import (
    GpuInfo,
    GpuReading,
    InstanceUsage,
    ReplayBackend,
    StatsSample,
    SystemSampler,
    cuda_version_tuple,
    fmt_bytes,
    fmt_or_na,
    fmt_pct,
    fmt_rate,
    sample_to_json,
    summarize,
)
from comfy_tui.services.monitor.readings import MemoryUsage, SystemReading
from tests.fakes.fake_nvml import FIXTURE


def test_fmt_or_na() -> None:
    assert fmt_or_na(None, "{:.0f} W") == "n/a"
    assert fmt_or_na(float("nan"), ".1f") == "n/a"
    assert fmt_or_na(125.228, "{:.0f} W") == "125 W"
    assert fmt_or_na(0, "P{}") == "P0"
    assert fmt_or_na(3.14159, ".2f") == "3.14"
    assert fmt_or_na(38, lambda c: f"{c}°C") == "38°C"
    assert fmt_or_na(7) == "7"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "n/a"),
        (0, "0 B"),
        (512, "512 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (1024**2 - 1, "1.0 MiB"),
        (644_939_776, "615.1 MiB"),
        (150_754_820_096, "140.4 GiB"),
        (-2048, "-2.0 KiB"),
    ],
)
def test_fmt_bytes(value: int | None, text: str) -> None:
    assert fmt_bytes(value) == text


@given(st.integers(0, 2**70))
def test_fmt_bytes_mantissa_is_below_1024(value: int) -> None:
    number, unit = fmt_bytes(value).split(" ")
    assert unit in {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
    assert float(number) < 1024 or unit == "EiB"


def test_fmt_rate_and_pct() -> None:
    assert fmt_rate(None) == "n/a"
    assert fmt_rate(1.5 * 1024**2) == "1.5 MiB/s"
    assert fmt_pct(None) == "n/a"
    assert fmt_pct(42.4) == "42%"
    assert fmt_pct(42.44, digits=1) == "42.4%"


def test_cuda_version_tuple() -> None:
    assert cuda_version_tuple(13000) == (13, 0)
    assert cuda_version_tuple(12040) == (12, 4)
    assert cuda_version_tuple(12090) == (12, 9)
    assert cuda_version_tuple(None) is None
    assert cuda_version_tuple(0) is None


def _system(cpu: float | None = 10.0) -> SystemReading:
    return SystemReading(
        cpu_percent=cpu,
        per_cpu_percent=None,
        cpu_count=4,
        load_avg=None,
        memory=MemoryUsage(1000, 250, 750, 25.0),
        swap=None,
        disks=(),
        disk_io=None,
        net_io=None,
    )


def test_summary_over_two_gpus() -> None:
    gpus = (
        GpuReading(index=0, utilization_gpu_pct=100, memory_used_bytes=10, memory_total_bytes=80),
        GpuReading(index=1, utilization_gpu_pct=50, memory_used_bytes=30, memory_total_bytes=80),
        GpuReading(index=2),  # lost: no readings
    )
    summary = summarize(StatsSample(0.0, _system(), gpus, GpuInfo(True, device_count=3)))
    assert summary.gpu_count == 3 and summary.gpu_available
    assert summary.gpu_util_avg_pct == 75.0
    assert (summary.vram_used_bytes, summary.vram_total_bytes) == (40, 160)
    assert summary.vram_percent == 25.0
    assert (summary.cpu_percent, summary.ram_percent) == (10.0, 25.0)
    assert (summary.ram_used_bytes, summary.ram_total_bytes) == (250, 1000)


def test_summary_without_gpu() -> None:
    info = GpuInfo(available=False, reason="no NVIDIA GPU (NVML library not found)")
    summary = summarize(StatsSample(0.0, _system(None), (), info))
    assert not summary.gpu_available and summary.gpu_count == 0
    assert summary.gpu_util_avg_pct is None and summary.vram_percent is None
    assert summary.vram_used_bytes is None and summary.cpu_percent is None


def test_sample_to_json_round_trips_through_json_dumps() -> None:
    backend = ReplayBackend.from_fixture(FIXTURE, labels=["load_1"])
    sampler = SystemSampler(["/"])
    sampler.sample()
    instances = {"a": InstanceUsage("a", 418, True, (418,), 12.5, 2048, 7_052_722_176, (0,))}
    sample = StatsSample(123.5, sampler.sample(), backend.sample(), backend.info(), instances)
    data = sample_to_json(sample)
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    gpu = data["gpus"][0]
    assert gpu["memory_total_bytes"] == 150_754_820_096
    assert gpu["power_draw_w"] == pytest.approx(567.025)
    assert gpu["temperature_c"] == 60
    assert gpu["fan_speed_pct"] is None
    assert gpu["compute_capability"] == "9.0"
    assert gpu["processes"] == [{"pid": 418, "used_memory_bytes": 7_052_722_176}]
    assert data["gpu_info"]["cuda_driver_version"] == "13.0"
    assert data["gpu_info"]["driver_version"] == "580.159.04"
    assert data["instances"]["a"]["vram_bytes"] == 7_052_722_176
    assert data["summary"]["gpu_util_avg_pct"] == 100
    assert data["timestamp_unix_s"] == 123.5
    assert data["schema"] == 1
    assert data["system"]["memory"]["total_bytes"] > 0
    assert data["system"]["disks"][0]["mountpoint"] == "/"


def test_sample_to_json_no_gpu_and_non_finite_values() -> None:
    info = GpuInfo(available=False, reason="no NVIDIA GPU (NVML library not found)")
    sample = StatsSample(
        0.0, _system(math.nan), (GpuReading(index=0, power_draw_w=math.inf),), info
    )
    data = sample_to_json(sample)
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text)["gpu_info"] == {
        "available": False,
        "reason": "no NVIDIA GPU (NVML library not found)",
        "driver_version": None,
        "cuda_driver_version": None,
        "cuda_driver_version_raw": None,
        "nvml_version": None,
        "device_count": 0,
    }
    assert data["system"]["cpu_percent"] is None
    assert data["gpus"][0]["power_draw_w"] is None


def test_importing_the_package_does_not_load_pynvml_or_the_ui() -> None:
    code = (
        "import sys\n"
        "import comfy_tui.services.monitor\n"
        "bad = [n for n in sys.modules if n.split('.')[0] in ('pynvml', 'textual', 'rich')]\n"
        "print(' '.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == []

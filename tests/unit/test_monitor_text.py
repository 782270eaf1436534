"""The text pieces the Monitor screen and `comfy-tui stats` share, and the header line."""

from __future__ import annotations

from pathlib import Path

import pytest

from comfy_tui.errors import SettingsError
from comfy_tui.services.container import build_services, gpu_backend
from comfy_tui.services.monitor import (
    GpuInfo,
    GpuProcess,
    GpuReading,
    InstanceUsage,
    NvmlBackend,
    ReplayBackend,
    StatsSample,
    Summary,
    summary_line,
)
from comfy_tui.services.monitor import text as t
from comfy_tui.services.monitor.fmt import fmt_bytes_pair
from comfy_tui.settings import Settings
from tests.fakes.fake_nvml import FIXTURE
from tests.fakes.fake_system import ReplaySystem

GIB = 1024**3


def summary(**kw: object) -> Summary:
    base: dict[str, object] = {
        "gpu_available": True,
        "gpu_count": 1,
        "gpu_util_avg_pct": 12.0,
        "vram_used_bytes": int(6.2 * GIB),
        "vram_total_bytes": 150_754_820_096,
        "cpu_percent": 3.2,
        "ram_percent": 21.0,
        "ram_used_bytes": 1,
        "ram_total_bytes": 2,
    }
    base.update(kw)
    return Summary(**base)  # type: ignore[arg-type]


def test_summary_line_forms() -> None:
    assert summary_line(summary()) == "GPU 12% · VRAM 6.2/140.4 GiB · CPU 3% · RAM 21%"
    assert summary_line(summary(gpu_count=2, vram_total_bytes=80 * GIB)).startswith(
        "GPU×2 12% · VRAM 6.2/80.0 GiB"
    )
    assert summary_line(summary(gpu_available=False, gpu_count=0)) == "no GPU · CPU 3% · RAM 21%"
    missing = summary(gpu_util_avg_pct=None, vram_used_bytes=None, cpu_percent=None)
    assert summary_line(missing) == "GPU n/a · VRAM n/a · CPU n/a · RAM 21%"


def test_sizes_and_fractions() -> None:
    assert fmt_bytes_pair(int(6.2 * GIB), int(140.4 * GIB)) == "6.2/140.4 GiB"
    assert fmt_bytes_pair(None, 5) == "n/a"
    assert t.fraction(50, 200) == 0.25
    assert t.fraction(300, 200) == 1.0
    assert t.fraction(None, 200) is None and t.fraction(1, 0) is None
    assert t.shorten("/mnt/models", 8) == "/mnt/mo…" and t.shorten("/", 8) == "/"


def test_gpu_title_and_details_say_na_for_missing_readings() -> None:
    full = ReplayBackend.from_fixture(FIXTURE, labels=["load_2"]).sample()[0]
    assert t.gpu_title(full) == "GPU 0 · NVIDIA H200 · P0"
    assert t.gpu_details(full) == "62°C · 690/700 W · SM 1500 · mem 3201 MHz · fan n/a"
    bare = GpuReading(index=3, mig_enabled=True)
    assert t.gpu_title(bare) == "GPU 3 · unknown GPU · MIG"
    assert t.gpu_details(bare) == "n/a · n/a/n/a W · SM n/a · mem n/a · fan n/a"


def test_process_lines_name_our_processes_first() -> None:
    gpu = GpuReading(
        index=0,
        processes=(
            GpuProcess(7, 5 * GIB),
            GpuProcess(418, 7_052_722_176),
            GpuProcess(9, None),
        ),
    )
    lines = t.process_lines(gpu, {418: "v0.3.77 :8188"}).splitlines()
    assert lines[0].startswith("pid 418") and lines[0].endswith("v0.3.77 :8188")
    assert "6.6 GiB" in lines[0]
    assert lines[1].startswith("pid 7") and lines[2].startswith("pid 9") and "n/a" in lines[2]
    many = GpuReading(index=0, processes=tuple(GpuProcess(p, GIB) for p in range(6)))
    assert t.process_lines(many, {}).splitlines()[-1] == "+2 more"
    assert t.process_lines(GpuReading(index=0, processes=()), {}) == "no compute processes"
    assert t.process_lines(GpuReading(index=0), {}) == "processes: …"


def test_pid_names_come_from_instance_trees() -> None:
    system = ReplaySystem.from_fixture().sample()
    usage = InstanceUsage("a1", 100, True, pids=(100, 101))
    other = InstanceUsage("b2", 200, True, pids=(200,))
    sample = StatsSample(0.0, system, (), GpuInfo(False), {"a1": usage, "b2": other})
    assert t.pid_names(sample, {"a1": "v0.3.77 :8188"}) == {
        100: "v0.3.77 :8188",
        101: "v0.3.77 :8188",
        200: "b2",  # no label yet: the instance id
    }


def test_instance_lines() -> None:
    alive = InstanceUsage("a1", 1, True, (1,), 12.0, 3 * GIB, 6 * GIB, (0, 1))
    line = t.instance_line("a1", alive, {"a1": "v0.3.77 :8188"})
    assert line.startswith("v0.3.77 :8188") and "CPU  12%" in line and "GPU 0,1" in line
    assert t.instance_line("gone", InstanceUsage("gone", 1, False), {}).endswith("exited")
    long = t.instance_line("x" * 40, InstanceUsage("x", 1, False), {})
    assert long.startswith("x" * 17 + "…")


def test_status_interval_load_and_cores() -> None:
    info = GpuInfo(True, driver_version="580.159.04", cuda_driver_version_raw=13000)
    assert t.gpu_status(info, 1) == "1 GPU · driver 580.159.04 · CUDA 13.0"
    assert t.gpu_status(GpuInfo(True), 2) == "2 GPUs"
    assert t.gpu_status(GpuInfo(False, reason="no NVIDIA GPU (x)"), 0) == "No NVIDIA GPU (x)"
    assert t.interval_text(0.5) == "every 0.5s" and t.interval_text(1.0) == "every 1s"
    assert t.load_text(None, 4) == "load n/a · 4 cores"
    assert [t.core_level(p) for p in (0, 12.5, 50, 99.9, 100, 150)] == [0, 1, 4, 7, 7, 7]


def test_services_use_the_replay_testing_aid(tmp_path: Path) -> None:
    plain = Settings(data_dir=tmp_path)
    assert isinstance(gpu_backend(plain), NvmlBackend)
    replay = Settings(data_dir=tmp_path, gpu_replay=FIXTURE)
    backend = gpu_backend(replay)
    assert isinstance(backend, ReplayBackend) and backend.info().device_count == 1
    with pytest.raises(SettingsError, match="gpu_replay"):
        gpu_backend(Settings(data_dir=tmp_path, gpu_replay=tmp_path / "missing.json"))
    services = build_services(Settings(data_dir=tmp_path, poll_interval=2.5))
    assert services.monitor.interval == 2.5
    assert dict(services.instance_labels()) == {}
    assert not (tmp_path / "library").exists(), "building services makes no folders"

"""ReplayBackend from the copied H200 recording and from hand-built frames."""

from __future__ import annotations

import pytest

from comfy_tui.services.monitor import (
    GpuBackend,
    GpuInfo,
    GpuProcess,
    GpuReading,
    ReplayBackend,
)
from tests.fakes.fake_nvml import FIXTURE, FakeNvml, load_recording

LABELS = ("idle", "load_0", "load_1", "load_2", "after")


def test_fixture_is_the_projects_own_copy() -> None:
    assert FIXTURE.is_file()
    assert "shared" not in FIXTURE.resolve().parts


def test_idle_sample() -> None:
    backend = ReplayBackend.from_fixture(FIXTURE)
    assert isinstance(backend, GpuBackend)
    assert backend.labels == LABELS
    (gpu,) = backend.sample()
    assert gpu.name == "NVIDIA H200"
    assert gpu.memory_total_bytes == 150_754_820_096
    assert gpu.memory_used_bytes == 644_939_776
    assert gpu.fan_speed_pct is None
    assert gpu.power_draw_w == pytest.approx(125.228)
    assert gpu.power_limit_w == pytest.approx(700.0)
    assert gpu.temperature_c == 38
    assert (gpu.clock_sm_mhz, gpu.clock_mem_mhz) == (525, 3201)
    assert gpu.pstate == 0
    assert gpu.mig_enabled is False
    assert gpu.compute_capability == (9, 0)
    assert gpu.processes == ()
    assert gpu.pcie_tx_kb_per_s is None  # left out, like NvmlBackend's default


def test_info_from_the_recording() -> None:
    backend = ReplayBackend.from_fixture(FIXTURE)
    info = backend.info()
    assert info == GpuInfo(
        available=True,
        driver_version="580.159.04",
        cuda_driver_version_raw=13000,
        nvml_version="13.580.159.04",
        device_count=1,
    )
    assert backend.cuda_driver_version() == (13, 0)
    assert backend.compute_capability(0) == (9, 0)
    assert backend.compute_capability(1) is None


def test_load_samples_show_the_compute_process() -> None:
    backend = ReplayBackend.from_fixture(FIXTURE, labels=["load_1", "load_2"])
    for _ in range(2):
        (gpu,) = backend.sample()
        assert gpu.utilization_gpu_pct == 100
        assert gpu.processes == (GpuProcess(pid=418, used_memory_bytes=7_052_722_176),)
    assert backend.sample(processes=False)[0].processes is None


def test_replay_matches_nvml_backend_on_the_fake() -> None:
    from comfy_tui.services.monitor import NvmlBackend

    replay = ReplayBackend.from_fixture(FIXTURE)
    fake = FakeNvml()
    nvml = NvmlBackend(fake)
    for label in LABELS:
        fake.use(label)
        assert nvml.sample() == replay.sample(), label
    assert nvml.info() == replay.info()


def test_cycles_by_default_and_holds_on_request() -> None:
    cycling = ReplayBackend.from_fixture(FIXTURE)
    temps = [cycling.sample()[0].temperature_c for _ in range(7)]
    assert temps == [38, 37, 60, 62, 41, 38, 37]
    holding = ReplayBackend.from_fixture(FIXTURE, cycle=False)
    temps = [holding.sample()[0].temperature_c for _ in range(7)]
    assert temps == [38, 37, 60, 62, 41, 41, 41]
    holding.close()  # rewinds
    assert holding.sample()[0].temperature_c == 38
    assert holding.calls == 8


def test_include_pcie() -> None:
    backend = ReplayBackend.from_fixture(FIXTURE, include_pcie=True)
    (gpu,) = backend.sample()
    assert gpu.pcie_tx_kb_per_s == 2054
    assert gpu.pcie_rx_kb_per_s is None  # not recorded


def test_unknown_label_is_an_error() -> None:
    with pytest.raises(ValueError, match="nope"):
        ReplayBackend.from_recording(load_recording(), labels=["nope"])


def test_in_memory_two_gpu_state() -> None:
    frame = [
        GpuReading(index=0, name="A", memory_used_bytes=1, memory_total_bytes=10),
        GpuReading(index=1, name="B", processes=(GpuProcess(7, 5),)),
    ]
    backend = ReplayBackend([frame])
    assert backend.info().available and backend.info().device_count == 2
    assert [g.name for g in backend.sample()] == ["A", "B"]
    assert backend.sample(processes=False)[1].processes is None


def test_in_memory_no_gpu_state() -> None:
    for backend in (ReplayBackend([]), ReplayBackend.no_gpu()):
        assert backend.sample() == ()
        info = backend.info()
        assert not info.available
        assert info.reason == "no NVIDIA GPU (NVML library not found)"
        assert backend.cuda_driver_version() is None
        assert backend.compute_capability(0) is None


def test_recording_error_fields_read_as_none() -> None:
    recording = load_recording()
    device = recording["samples"][0]["devices"][0]
    device["temperature_gpu"] = {"value": None, "error": "NVMLError: GPU is lost (code 15)"}
    del device["mig_mode"]
    (gpu,) = ReplayBackend.from_recording(recording).sample()
    assert gpu.temperature_c is None
    assert gpu.mig_enabled is None
    assert gpu.name == "NVIDIA H200"


def test_labels_must_match_frames() -> None:
    with pytest.raises(ValueError, match="labels"):
        ReplayBackend([[GpuReading(index=0)]], labels=["a", "b"])

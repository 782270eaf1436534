"""NvmlBackend against a fake pynvml driven by real H200 readings, and real pynvml here."""

from __future__ import annotations

import logging
import sys

import pynvml
import pytest

from comfy_tui.services.monitor import GpuBackend, GpuProcess, NvmlBackend
from tests.fakes.fake_nvml import FakeNvml

H200_TOTAL = 150_754_820_096


def make(label: str = "idle", **kwargs: object) -> tuple[FakeNvml, NvmlBackend]:
    fake = FakeNvml(label=label)
    return fake, NvmlBackend(fake, **kwargs)  # type: ignore[arg-type]


def test_is_a_gpu_backend() -> None:
    assert isinstance(NvmlBackend(FakeNvml()), GpuBackend)


def test_idle_sample_has_the_recorded_values() -> None:
    _fake, backend = make()
    (gpu,) = backend.sample()
    assert gpu.index == 0
    assert gpu.name == "NVIDIA H200"
    assert gpu.uuid == "GPU-00000000-0000-0000-0000-000000000000"
    assert gpu.memory_total_bytes == H200_TOTAL
    assert gpu.memory_used_bytes == 644_939_776
    assert (gpu.utilization_gpu_pct, gpu.utilization_memory_pct) == (0, 0)
    assert gpu.temperature_c == 38
    assert gpu.power_draw_w == pytest.approx(125.228)
    assert gpu.power_limit_w == pytest.approx(700.0)
    assert (gpu.clock_sm_mhz, gpu.clock_mem_mhz) == (525, 3201)
    assert gpu.pstate == 0
    assert gpu.fan_speed_pct is None
    assert gpu.processes == ()
    assert gpu.mig_enabled is False
    assert gpu.compute_capability == (9, 0)
    assert gpu.pcie_tx_kb_per_s is None


def test_info_and_versions() -> None:
    _fake, backend = make()
    info = backend.info()
    assert info.available and info.reason is None
    assert info.driver_version == "580.159.04"
    assert info.nvml_version == "13.580.159.04"
    assert info.cuda_driver_version_raw == 13000
    assert info.cuda_driver_version_str == "13.0"
    assert info.device_count == 1
    assert backend.cuda_driver_version() == (13, 0)
    assert backend.compute_capability(0) == (9, 0)
    assert backend.compute_capability(7) is None


def test_load_sample_lists_the_compute_process() -> None:
    _fake, backend = make("load_1")
    (gpu,) = backend.sample()
    assert gpu.utilization_gpu_pct == 100
    assert gpu.processes == (GpuProcess(pid=418, used_memory_bytes=7_052_722_176),)
    (gpu,) = backend.sample(processes=False)
    assert gpu.processes is None


def test_init_is_lazy_and_happens_once() -> None:
    fake, backend = make()
    assert fake.calls["nvmlInit"] == 0
    for _ in range(3):
        backend.sample()
    backend.info()
    assert fake.calls["nvmlInit"] == 1
    assert fake.calls["nvmlDeviceGetName"] == 1  # static fields are read once


def test_fan_not_supported_is_asked_exactly_once() -> None:
    fake, backend = make()
    for label in ("idle", "load_0", "load_1", "load_2", "after"):
        fake.use(label)
        (gpu,) = backend.sample()
        assert gpu.fan_speed_pct is None
    assert fake.calls["nvmlDeviceGetFanSpeed"] == 1
    assert fake.calls["nvmlDeviceGetMemoryInfo"] == 5


def test_not_supported_is_remembered_per_device() -> None:
    fake = FakeNvml(device_count=2)
    backend = NvmlBackend(fake)
    for _ in range(4):
        gpus = backend.sample()
        assert [g.index for g in gpus] == [0, 1]
    assert fake.calls["nvmlDeviceGetFanSpeed"] == 2


def test_generic_error_makes_one_field_none_and_is_asked_again() -> None:
    fake, backend = make()
    fake.fail("power_usage_mw", pynvml.NVML_ERROR_UNKNOWN)
    for _ in range(3):
        (gpu,) = backend.sample()
        assert gpu.power_draw_w is None
        assert gpu.temperature_c == 38
    assert fake.calls["nvmlDeviceGetPowerUsage"] == 3
    fake.failures.clear()
    (gpu,) = backend.sample()
    assert gpu.power_draw_w == pytest.approx(125.228)


def test_gpu_lost_reads_none_without_raising() -> None:
    fake, backend = make()
    backend.sample()
    for field in ("memory", "utilization", "temperature_gpu", "compute_processes"):
        fake.fail(field, pynvml.NVML_ERROR_GPU_IS_LOST)
    (gpu,) = backend.sample()
    assert gpu.memory_used_bytes is None and gpu.memory_total_bytes is None
    assert gpu.utilization_gpu_pct is None and gpu.temperature_c is None
    assert gpu.processes is None
    assert gpu.name == "NVIDIA H200"


def test_pcie_is_not_queried_by_default() -> None:
    fake, backend = make()
    for _ in range(5):
        backend.sample()
    assert fake.calls["nvmlDeviceGetPcieThroughput"] == 0


def test_pcie_is_polled_at_most_every_ten_seconds() -> None:
    now = [0.0]
    fake = FakeNvml()
    backend = NvmlBackend(fake, pcie_interval_s=1.0, clock=lambda: now[0])  # clamped to 10 s
    readings = []
    for _ in range(25):  # 25 ticks, 1 s apart
        (gpu,) = backend.sample()
        readings.append(gpu.pcie_tx_kb_per_s)
        now[0] += 1.0
    assert fake.calls["nvmlDeviceGetPcieThroughput"] == 3 * 2  # t=0, 10, 20; tx and rx
    assert readings == [2054] * 25  # carried between polls


def test_library_not_found_is_the_no_gpu_state(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="comfy_tui")
    fake = FakeNvml(init_error=pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)
    backend = NvmlBackend(fake)
    for _ in range(5):
        assert backend.sample() == ()
    info = backend.info()
    assert not info.available
    assert info.reason == "no NVIDIA GPU (NVML library not found)"
    assert info.device_count == 0
    assert backend.cuda_driver_version() is None
    assert backend.compute_capability(0) is None
    assert fake.calls["nvmlInit"] == 1
    assert len(caplog.records) <= 1
    backend.close()
    assert fake.calls["nvmlShutdown"] == 0  # never initialised


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (pynvml.NVML_ERROR_DRIVER_NOT_LOADED, "no NVIDIA GPU (NVIDIA driver not loaded)"),
        (pynvml.NVML_ERROR_NO_PERMISSION, "insufficient permissions"),
        (pynvml.NVML_ERROR_UNKNOWN, "NVML unavailable (Unknown Error)"),
    ],
)
def test_other_init_failures_say_why(code: int, reason: str) -> None:
    backend = NvmlBackend(FakeNvml(init_error=code))
    assert backend.sample() == ()
    info = backend.info()
    assert not info.available
    assert info.reason is not None and reason in info.reason


def test_no_devices_is_the_no_gpu_state() -> None:
    fake = FakeNvml(device_count=0)
    backend = NvmlBackend(fake)
    assert backend.sample() == ()
    assert backend.info().reason == "no NVIDIA GPU (NVML found no devices)"
    backend.close()
    assert fake.calls["nvmlShutdown"] == 1  # init had succeeded


def test_close_shuts_down_and_a_later_sample_initialises_again() -> None:
    fake, backend = make()
    backend.sample()
    backend.close()
    backend.close()  # idempotent
    assert fake.calls["nvmlShutdown"] == 1
    assert not fake.initialized
    (gpu,) = backend.sample()
    assert gpu.name == "NVIDIA H200"
    assert fake.calls["nvmlInit"] == 2


def test_missing_function_in_the_binding_is_not_supported() -> None:
    class OldBinding(FakeNvml):
        nvmlDeviceGetMigMode = None  # type: ignore[assignment]

    fake = OldBinding()
    (gpu,) = NvmlBackend(fake).sample()
    assert gpu.mig_enabled is None
    assert gpu.memory_total_bytes == H200_TOTAL


def test_library_mismatch_is_remembered_like_not_supported() -> None:
    class Mismatched(FakeNvml):
        def nvmlDeviceGetComputeRunningProcesses(self, handle):  # type: ignore[no-untyped-def]
            self._count("nvmlDeviceGetComputeRunningProcesses")
            raise pynvml.NVMLLibraryMismatchError("unversioned function")

    fake = Mismatched()
    backend = NvmlBackend(fake)
    for _ in range(3):
        (gpu,) = backend.sample()
        assert gpu.processes is None
    assert fake.calls["nvmlDeviceGetComputeRunningProcesses"] == 1


def test_unexpected_exception_in_a_field_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(FakeNvml):
        def nvmlDeviceGetPerformanceState(self, handle):  # type: ignore[no-untyped-def]
            raise OSError("binding bug")

    backend = NvmlBackend(Broken())
    with caplog.at_level(logging.WARNING, logger="comfy_tui"):
        for _ in range(3):
            (gpu,) = backend.sample()
            assert gpu.pstate is None
    assert len(caplog.records) == 1


def test_real_pynvml_without_a_gpu_is_the_no_gpu_state(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="comfy_tui")
    backend = NvmlBackend()  # imports the real pynvml lazily
    try:
        info = backend.info()
        if info.available:  # pragma: no cover - only on a machine with a GPU
            assert backend.sample()
            return
        assert backend.sample() == ()
        assert backend.sample() == ()
        assert info.reason is not None and info.reason.startswith("no NVIDIA GPU")
        assert len(caplog.records) <= 1
    finally:
        backend.close()


def test_pynvml_not_installed_is_the_no_gpu_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # makes `import pynvml` fail
    backend = NvmlBackend()
    assert backend.sample() == ()
    assert backend.info().reason == "no NVIDIA GPU (nvidia-ml-py is not installed)"

"""A fake ``pynvml`` module driven by recorded NVML readings (tests/fixtures/nvml_h200.json).

`FakeNvml` answers the same function names with the same shapes as nvidia-ml-py
(ctypes structs become attribute objects) and raises the *real* ``pynvml`` exception
classes (``pynvml.NVMLError(3)`` is an ``NVMLError_NotSupported``), so `NvmlBackend`
runs its real code path against it. A recorded field with an ``error`` raises that
NVMLError on every call. Every call is counted in ``calls`` by function name.
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pynvml

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "nvml_h200.json"


def load_recording(path: Path = FIXTURE) -> dict[str, Any]:
    """The recorded H200 readings (the project's own copy under tests/fixtures)."""
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _error_code(text: str) -> int:
    match = re.search(r"code (\d+)", text)
    return int(match.group(1)) if match else pynvml.NVML_ERROR_UNKNOWN


class FakeHandle:
    """What nvmlDeviceGetHandleByIndex returns."""

    def __init__(self, index: int) -> None:
        self.index = index

    def __repr__(self) -> str:
        return f"FakeHandle({self.index})"


class FakeNvml:
    """A stand-in for the ``pynvml`` module; pass it to ``NvmlBackend(nvml=...)``.

    ``label`` picks the recorded sample (`use()` switches later); ``device_count``
    replicates device 0 to make a multi-GPU box; ``init_error`` is an NVML error code
    that ``nvmlInit`` raises (e.g. ``NVML_ERROR_LIBRARY_NOT_FOUND``); `fail()` makes a
    field raise an error of your choice.
    """

    NVMLError = pynvml.NVMLError
    NVMLError_NotSupported = pynvml.NVMLError_NotSupported
    NVMLError_LibraryNotFound = pynvml.NVMLError_LibraryNotFound
    NVMLLibraryMismatchError = pynvml.NVMLLibraryMismatchError
    NVML_ERROR_NOT_SUPPORTED = pynvml.NVML_ERROR_NOT_SUPPORTED
    NVML_ERROR_LIBRARY_NOT_FOUND = pynvml.NVML_ERROR_LIBRARY_NOT_FOUND
    NVML_ERROR_UNKNOWN = pynvml.NVML_ERROR_UNKNOWN
    NVML_TEMPERATURE_GPU = pynvml.NVML_TEMPERATURE_GPU
    NVML_CLOCK_SM = pynvml.NVML_CLOCK_SM
    NVML_CLOCK_MEM = pynvml.NVML_CLOCK_MEM
    NVML_PCIE_UTIL_TX_BYTES = pynvml.NVML_PCIE_UTIL_TX_BYTES
    NVML_PCIE_UTIL_RX_BYTES = pynvml.NVML_PCIE_UTIL_RX_BYTES

    def __init__(
        self,
        recording: Mapping[str, Any] | None = None,
        *,
        label: str = "idle",
        device_count: int | None = None,
        init_error: int | None = None,
    ) -> None:
        self.recording = recording if recording is not None else load_recording()
        self.calls: Counter[str] = Counter()
        self.device_count = device_count
        self.init_error = init_error
        self.initialized = False
        self.failures: dict[tuple[int | None, str], int] = {}
        self._sample: Mapping[str, Any] = {}
        self.use(label)

    # -- test controls ------------------------------------------------------------------

    def use(self, label: str) -> None:
        """Answer from the recorded sample ``label`` from now on."""
        for sample in self.recording["samples"]:
            if sample["label"] == label:
                self._sample = sample
                return
        raise KeyError(label)

    def fail(self, field: str, code: int, device: int | None = None) -> None:
        """Make recorded ``field`` raise NVMLError(code) (on every device when ``None``)."""
        self.failures[(device, field)] = code

    # -- helpers ------------------------------------------------------------------------

    def _count(self, name: str) -> None:
        self.calls[name] += 1

    def _devices(self) -> list[Mapping[str, Any]]:
        devices = list(self._sample["devices"])
        if self.device_count is not None:
            devices = [devices[0]] * self.device_count
        return devices

    def _value(self, handle: FakeHandle, field: str) -> Any:
        if not self.initialized:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_UNINITIALIZED)
        for key in ((handle.index, field), (None, field)):
            if key in self.failures:
                raise pynvml.NVMLError(self.failures[key])
        entry = self._devices()[handle.index][field]
        if entry["error"] is not None:
            raise pynvml.NVMLError(_error_code(entry["error"]))
        return entry["value"]

    def _system(self, field: str) -> Any:
        if not self.initialized:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_UNINITIALIZED)
        entry = self.recording["system"][field]
        if entry["error"] is not None:
            raise pynvml.NVMLError(_error_code(entry["error"]))
        return entry["value"]

    # -- the pynvml surface NvmlBackend uses ----------------------------------------------

    def nvmlInit(self) -> None:
        self._count("nvmlInit")
        if self.init_error is not None:
            raise pynvml.NVMLError(self.init_error)
        self.initialized = True

    def nvmlShutdown(self) -> None:
        self._count("nvmlShutdown")
        if not self.initialized:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_UNINITIALIZED)
        self.initialized = False

    def nvmlDeviceGetCount(self) -> int:
        self._count("nvmlDeviceGetCount")
        if not self.initialized:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_UNINITIALIZED)
        return len(self._devices())

    def nvmlDeviceGetHandleByIndex(self, index: int) -> FakeHandle:
        self._count("nvmlDeviceGetHandleByIndex")
        if not self.initialized:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_UNINITIALIZED)
        if not 0 <= index < len(self._devices()):
            raise pynvml.NVMLError(pynvml.NVML_ERROR_INVALID_ARGUMENT)
        return FakeHandle(index)

    def nvmlSystemGetDriverVersion(self) -> str:
        self._count("nvmlSystemGetDriverVersion")
        return str(self._system("driver_version"))

    def nvmlSystemGetNVMLVersion(self) -> str:
        self._count("nvmlSystemGetNVMLVersion")
        return str(self._system("nvml_version"))

    def nvmlSystemGetCudaDriverVersion(self) -> int:
        self._count("nvmlSystemGetCudaDriverVersion")
        return int(self._system("cuda_driver_version"))

    def nvmlDeviceGetName(self, handle: FakeHandle) -> str:
        self._count("nvmlDeviceGetName")
        return str(self._value(handle, "name"))

    def nvmlDeviceGetUUID(self, handle: FakeHandle) -> str:
        self._count("nvmlDeviceGetUUID")
        return str(self._value(handle, "uuid"))

    def nvmlDeviceGetCudaComputeCapability(self, handle: FakeHandle) -> tuple[int, int]:
        self._count("nvmlDeviceGetCudaComputeCapability")
        major, minor = self._value(handle, "cuda_compute_capability")
        return int(major), int(minor)

    def nvmlDeviceGetMemoryInfo(self, handle: FakeHandle) -> SimpleNamespace:
        self._count("nvmlDeviceGetMemoryInfo")
        return SimpleNamespace(**self._value(handle, "memory"))

    def nvmlDeviceGetUtilizationRates(self, handle: FakeHandle) -> SimpleNamespace:
        self._count("nvmlDeviceGetUtilizationRates")
        return SimpleNamespace(**self._value(handle, "utilization"))

    def nvmlDeviceGetTemperature(self, handle: FakeHandle, sensor: int) -> int:
        self._count("nvmlDeviceGetTemperature")
        if sensor != pynvml.NVML_TEMPERATURE_GPU:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_INVALID_ARGUMENT)
        return int(self._value(handle, "temperature_gpu"))

    def nvmlDeviceGetPowerUsage(self, handle: FakeHandle) -> int:
        self._count("nvmlDeviceGetPowerUsage")
        return int(self._value(handle, "power_usage_mw"))

    def nvmlDeviceGetEnforcedPowerLimit(self, handle: FakeHandle) -> int:
        self._count("nvmlDeviceGetEnforcedPowerLimit")
        return int(self._value(handle, "power_limit_mw"))

    def nvmlDeviceGetFanSpeed(self, handle: FakeHandle) -> int:
        self._count("nvmlDeviceGetFanSpeed")
        return int(self._value(handle, "fan_speed_pct"))

    def nvmlDeviceGetClockInfo(self, handle: FakeHandle, clock_type: int) -> int:
        self._count("nvmlDeviceGetClockInfo")
        fields = {pynvml.NVML_CLOCK_SM: "clock_sm_mhz", pynvml.NVML_CLOCK_MEM: "clock_mem_mhz"}
        if clock_type not in fields:
            raise pynvml.NVMLError(pynvml.NVML_ERROR_INVALID_ARGUMENT)
        return int(self._value(handle, fields[clock_type]))

    def nvmlDeviceGetPerformanceState(self, handle: FakeHandle) -> int:
        self._count("nvmlDeviceGetPerformanceState")
        return int(self._value(handle, "pstate"))

    def nvmlDeviceGetComputeRunningProcesses(self, handle: FakeHandle) -> list[SimpleNamespace]:
        self._count("nvmlDeviceGetComputeRunningProcesses")
        result = []
        for item in self._value(handle, "compute_processes"):
            # the recorder stored str(process object), i.e. a dict repr
            fields = ast.literal_eval(item) if isinstance(item, str) else item
            result.append(SimpleNamespace(**fields))
        return result

    def nvmlDeviceGetMigMode(self, handle: FakeHandle) -> list[int]:
        self._count("nvmlDeviceGetMigMode")
        return list(self._value(handle, "mig_mode"))

    def nvmlDeviceGetPcieThroughput(self, handle: FakeHandle, counter: int) -> int:
        """TX is recorded; RX was not, so it answers 0."""
        self._count("nvmlDeviceGetPcieThroughput")
        if counter == pynvml.NVML_PCIE_UTIL_TX_BYTES:
            return int(self._value(handle, "pcie_throughput_tx_kbs"))
        if counter == pynvml.NVML_PCIE_UTIL_RX_BYTES:
            self._value(handle, "pcie_throughput_tx_kbs")  # same failure rules as TX
            return 0
        raise pynvml.NVMLError(pynvml.NVML_ERROR_INVALID_ARGUMENT)

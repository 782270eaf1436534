"""`NvmlBackend`: GPU readings from NVML through nvidia-ml-py (imported as ``pynvml``).

Rules this module keeps (they come from readings on a real H200, see tests/fixtures):

- Every NVML call goes through one wrapper, `NvmlBackend._call`. A failing call makes
  that one field ``None``; a field that answers *Not Supported* (fan speed on a
  data-centre card) is remembered per (device, field) and never asked again.
- No NVML at all (library not found, driver not loaded, no devices, nvidia-ml-py not
  installed) is the normal state "no NVIDIA GPU": `info()` says why, `sample()` returns
  ``()``, nothing raises, and it is logged once.
- ``nvmlInit`` runs once, lazily, on first use (it takes ~13 ms); `close()` calls
  ``nvmlShutdown``.
- Calls block (the first utilisation query ~3.7 ms; PCIe throughput ~21 ms on *every*
  call), so the backend is synchronous and the async layer runs it in a thread.
  PCIe throughput is off by default; ``pcie_interval_s`` switches it on, at most once
  every 10 s, and the last reading is carried in between.
"""

from __future__ import annotations

import importlib
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from comfy_tui.services.monitor.readings import GpuInfo, GpuProcess, GpuReading

_LOG = logging.getLogger(__name__)

PCIE_MIN_INTERVAL_S = 10.0
"""PCIe throughput is never polled more often than this (each call blocks ~21 ms)."""

# NVML return codes, as in nvml.h (the binding exposes the same values as NVML_ERROR_*).
_NOT_SUPPORTED = 3
_NO_PERMISSION = 4
_DRIVER_NOT_LOADED = 9
_LIBRARY_NOT_FOUND = 12
_FUNCTION_NOT_FOUND = 13
_PSTATE_UNKNOWN = 32
_MIG_ENABLED = 1

_SYSTEM = -1
"""The "device index" used in wrapper keys for system-level calls."""

Key = tuple[int, str]
"""(device index or -1 for system calls, field name): what NotSupported is remembered by."""

_NO_GPU_REASONS = {
    _LIBRARY_NOT_FOUND: "no NVIDIA GPU (NVML library not found)",
    _DRIVER_NOT_LOADED: "no NVIDIA GPU (NVIDIA driver not loaded)",
    _NO_PERMISSION: "NVIDIA GPU not accessible (NVML: insufficient permissions)",
}


@dataclass(frozen=True, slots=True)
class _Device:
    """What does not change while NVML is initialised: handle, name, uuid, capability."""

    index: int
    handle: Any
    name: str | None
    uuid: str | None
    compute_capability: tuple[int, int] | None


def _text(value: object) -> str | None:
    """NVML strings arrive as str (new bindings) or bytes (old ones)."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _int(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return int(value)


def _pair(value: object) -> tuple[int, int] | None:
    if isinstance(value, list | tuple) and len(value) == 2:
        first, second = _int(value[0]), _int(value[1])
        if first is not None and second is not None:
            return first, second
    return None


class NvmlBackend:
    """Real GPUs through NVML. Thread-safe; blocking; never raises for NVML trouble.

    ``nvml`` is the module object to use (a fake in tests); by default ``pynvml`` is
    imported on first use. ``pcie_interval_s`` switches PCIe throughput polling on
    (clamped to at least `PCIE_MIN_INTERVAL_S`); ``clock`` is a monotonic clock.
    """

    def __init__(
        self,
        nvml: Any | None = None,
        *,
        pcie_interval_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._module_arg = nvml
        self._nvml: Any = None
        self._clock = clock
        self._pcie_interval = (
            None if pcie_interval_s is None else max(pcie_interval_s, PCIE_MIN_INTERVAL_S)
        )
        self._lock = threading.RLock()
        self._info: GpuInfo | None = None
        self._initialized = False
        self._devices: tuple[_Device, ...] = ()
        self._unsupported: set[Key] = set()
        self._logged: set[tuple[Key, int | None]] = set()
        self._logged_unavailable = False
        self._last_code: int | None = None
        self._last_text = ""
        self._pcie_next = -math.inf
        self._pcie_last: dict[int, tuple[int | None, int | None]] = {}

    # -- the one wrapper ----------------------------------------------------------------

    def _call(self, key: Key, func: str, *args: Any, quiet: bool = False) -> Any:
        """Call ``nvml.<func>(*args)``; return its result, or ``None`` if it failed.

        Not Supported (or a function the binding/library lacks) is remembered for ``key``
        and not asked again. Other NVML errors make this one reading ``None`` and are
        logged at debug level once per (key, error code). The error code of the last call
        is kept in ``_last_code`` (``None`` after a success) for the callers that care;
        ``quiet`` leaves the logging to the caller.
        """
        self._last_code = None
        self._last_text = ""
        if key in self._unsupported:
            self._last_code = _NOT_SUPPORTED
            return None
        fn = getattr(self._nvml, func, None)
        if fn is None:
            self._unsupported.add(key)
            self._last_code = _FUNCTION_NOT_FOUND
            return None
        try:
            return fn(*args)
        except Exception as exc:
            code = self._error_code(exc)
            self._last_code = code
            self._last_text = str(exc) or type(exc).__name__
            if code in (_NOT_SUPPORTED, _FUNCTION_NOT_FOUND):
                self._unsupported.add(key)
            if not quiet and (key, code) not in self._logged:
                self._logged.add((key, code))
                if code is None:
                    _LOG.warning("NVML %s failed unexpectedly for %s", func, key, exc_info=True)
                else:
                    _LOG.debug("NVML %s for %s: %s", func, key, self._last_text)
            return None

    def _error_code(self, exc: Exception) -> int | None:
        nvml_error = getattr(self._nvml, "NVMLError", None)
        if isinstance(nvml_error, type) and isinstance(exc, nvml_error):
            return _int(getattr(exc, "value", None))
        mismatch = getattr(self._nvml, "NVMLLibraryMismatchError", None)
        if isinstance(mismatch, type) and isinstance(exc, mismatch):
            return _FUNCTION_NOT_FOUND
        return None

    # -- lifecycle ----------------------------------------------------------------------

    def _ensure_init(self) -> GpuInfo:
        """Initialise NVML once (caller holds the lock); the result is cached until close."""
        if self._info is not None:
            return self._info
        if self._nvml is None:
            if self._module_arg is not None:
                self._nvml = self._module_arg
            else:
                try:
                    self._nvml = importlib.import_module("pynvml")
                except ImportError:
                    return self._unavailable("no NVIDIA GPU (nvidia-ml-py is not installed)")
        self._call((_SYSTEM, "init"), "nvmlInit", quiet=True)
        if self._last_code is not None or self._last_text:
            code = self._last_code
            reason = _NO_GPU_REASONS.get(code if code is not None else -1)
            return self._unavailable(reason or f"NVML unavailable ({self._last_text})")
        self._initialized = True
        count = _int(self._call((_SYSTEM, "device_count"), "nvmlDeviceGetCount", quiet=True))
        if count is None:
            return self._unavailable(f"NVML could not count GPUs ({self._last_text})")
        if count <= 0:
            return self._unavailable("no NVIDIA GPU (NVML found no devices)")
        self._devices = tuple(self._open_device(index) for index in range(count))
        self._info = GpuInfo(
            available=True,
            driver_version=_text(self._call((_SYSTEM, "driver"), "nvmlSystemGetDriverVersion")),
            cuda_driver_version_raw=_int(
                self._call((_SYSTEM, "cuda_driver"), "nvmlSystemGetCudaDriverVersion")
            ),
            nvml_version=_text(self._call((_SYSTEM, "nvml_version"), "nvmlSystemGetNVMLVersion")),
            device_count=count,
        )
        return self._info

    def _open_device(self, index: int) -> _Device:
        handle = self._call((index, "handle"), "nvmlDeviceGetHandleByIndex", index)
        if handle is None:
            return _Device(index, None, None, None, None)
        return _Device(
            index=index,
            handle=handle,
            name=_text(self._call((index, "name"), "nvmlDeviceGetName", handle)),
            uuid=_text(self._call((index, "uuid"), "nvmlDeviceGetUUID", handle)),
            compute_capability=_pair(
                self._call(
                    (index, "compute_capability"), "nvmlDeviceGetCudaComputeCapability", handle
                )
            ),
        )

    def _unavailable(self, reason: str) -> GpuInfo:
        if not self._logged_unavailable:
            self._logged_unavailable = True
            _LOG.info("GPU monitoring off: %s", reason)
        self._info = GpuInfo(available=False, reason=reason)
        return self._info

    def close(self) -> None:
        """Shut NVML down (if it was initialised); a later call initialises again."""
        with self._lock:
            if self._initialized:
                self._call((_SYSTEM, "shutdown"), "nvmlShutdown")
            self._initialized = False
            self._info = None
            self._devices = ()
            self._unsupported.clear()
            self._pcie_next = -math.inf
            self._pcie_last.clear()

    # -- GpuBackend ---------------------------------------------------------------------

    def info(self) -> GpuInfo:
        """Driver/CUDA/NVML versions and availability; initialises NVML on first use."""
        with self._lock:
            return self._ensure_init()

    def cuda_driver_version(self) -> tuple[int, int] | None:
        """(major, minor) of the newest CUDA the driver supports, e.g. (13, 0)."""
        return self.info().cuda_driver_version

    def compute_capability(self, index: int) -> tuple[int, int] | None:
        """CUDA compute capability of device ``index``; ``None`` if unknown or no such GPU."""
        with self._lock:
            self._ensure_init()
            for device in self._devices:
                if device.index == index:
                    return device.compute_capability
            return None

    def sample(self, *, processes: bool = True) -> tuple[GpuReading, ...]:
        """Read every device once; ``()`` when no GPU is usable."""
        with self._lock:
            if not self._ensure_init().available:
                return ()
            poll_pcie = False
            if self._pcie_interval is not None:
                now = self._clock()
                if now >= self._pcie_next:
                    poll_pcie = True
                    self._pcie_next = now + self._pcie_interval
            return tuple(self._sample_device(d, processes, poll_pcie) for d in self._devices)

    def _sample_device(self, dev: _Device, processes: bool, poll_pcie: bool) -> GpuReading:
        if dev.handle is None:
            return GpuReading(index=dev.index)
        nvml, i, h = self._nvml, dev.index, dev.handle
        memory = self._call((i, "memory"), "nvmlDeviceGetMemoryInfo", h)
        util = self._call((i, "utilization"), "nvmlDeviceGetUtilizationRates", h)
        temp_sensor = getattr(nvml, "NVML_TEMPERATURE_GPU", 0)
        power_mw = _int(self._call((i, "power_usage"), "nvmlDeviceGetPowerUsage", h))
        limit_mw = _int(self._call((i, "power_limit"), "nvmlDeviceGetEnforcedPowerLimit", h))
        pstate = _int(self._call((i, "pstate"), "nvmlDeviceGetPerformanceState", h))
        mig = _pair(self._call((i, "mig_mode"), "nvmlDeviceGetMigMode", h))
        procs: tuple[GpuProcess, ...] | None = None
        if processes:
            procs = self._processes(
                self._call((i, "compute_processes"), "nvmlDeviceGetComputeRunningProcesses", h)
            )
        if poll_pcie:
            tx = getattr(nvml, "NVML_PCIE_UTIL_TX_BYTES", 0)
            rx = getattr(nvml, "NVML_PCIE_UTIL_RX_BYTES", 1)
            self._pcie_last[i] = (
                _int(self._call((i, "pcie_tx"), "nvmlDeviceGetPcieThroughput", h, tx)),
                _int(self._call((i, "pcie_rx"), "nvmlDeviceGetPcieThroughput", h, rx)),
            )
        pcie_tx, pcie_rx = self._pcie_last.get(i, (None, None))
        return GpuReading(
            index=i,
            name=dev.name,
            uuid=dev.uuid,
            memory_used_bytes=_int(getattr(memory, "used", None)),
            memory_total_bytes=_int(getattr(memory, "total", None)),
            utilization_gpu_pct=_int(getattr(util, "gpu", None)),
            utilization_memory_pct=_int(getattr(util, "memory", None)),
            temperature_c=_int(
                self._call((i, "temperature"), "nvmlDeviceGetTemperature", h, temp_sensor)
            ),
            power_draw_w=None if power_mw is None else power_mw / 1000.0,
            power_limit_w=None if limit_mw is None else limit_mw / 1000.0,
            clock_sm_mhz=_int(
                self._call(
                    (i, "clock_sm"), "nvmlDeviceGetClockInfo", h, getattr(nvml, "NVML_CLOCK_SM", 1)
                )
            ),
            clock_mem_mhz=_int(
                self._call(
                    (i, "clock_mem"),
                    "nvmlDeviceGetClockInfo",
                    h,
                    getattr(nvml, "NVML_CLOCK_MEM", 2),
                )
            ),
            pstate=None if pstate is None or pstate == _PSTATE_UNKNOWN else pstate,
            fan_speed_pct=_int(self._call((i, "fan_speed"), "nvmlDeviceGetFanSpeed", h)),
            processes=procs,
            mig_enabled=None if mig is None else mig[0] == _MIG_ENABLED,
            compute_capability=dev.compute_capability,
            pcie_tx_kb_per_s=pcie_tx,
            pcie_rx_kb_per_s=pcie_rx,
        )

    @staticmethod
    def _processes(raw: object) -> tuple[GpuProcess, ...] | None:
        if not isinstance(raw, list | tuple):
            return None
        result: list[GpuProcess] = []
        for item in raw:
            pid = _int(getattr(item, "pid", None))
            if pid is not None:
                result.append(GpuProcess(pid, _int(getattr(item, "usedGpuMemory", None))))
        return tuple(result)

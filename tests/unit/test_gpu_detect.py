"""The NVML driver probe, against a stand-in pynvml module (no GPU needed)."""

from __future__ import annotations

import sys
import types

import pytest

from comfy_tui.services.gpu_detect import DriverInfo, detect_driver


class NVMLError(Exception):
    pass


def fake_pynvml(
    *,
    init_fails: bool = False,
    count: int = 1,
    driver: str | bytes = "570.86.10",
    cuda: int | None = 12080,
) -> types.ModuleType:
    module = types.ModuleType("pynvml")
    calls: list[str] = []

    def init() -> None:
        calls.append("init")
        if init_fails:
            raise NVMLError("NVML Shared Library Not Found")

    def cuda_version() -> int:
        if cuda is None:
            raise NVMLError("Not Supported")
        return cuda

    module.nvmlInit = init  # type: ignore[attr-defined]
    module.nvmlShutdown = lambda: calls.append("shutdown")  # type: ignore[attr-defined]
    module.nvmlDeviceGetCount = lambda: count  # type: ignore[attr-defined]
    module.nvmlSystemGetDriverVersion = lambda: driver  # type: ignore[attr-defined]
    module.nvmlSystemGetCudaDriverVersion = cuda_version  # type: ignore[attr-defined]
    module.calls = calls  # type: ignore[attr-defined]
    return module


def test_driver_and_cuda_version(monkeypatch: pytest.MonkeyPatch) -> None:
    module = fake_pynvml(driver=b"580.65.06", cuda=13000, count=2)
    monkeypatch.setitem(sys.modules, "pynvml", module)
    info = detect_driver()
    assert info == DriverInfo("580.65.06", (13, 0), 2)
    assert module.calls == ["init", "shutdown"]  # type: ignore[attr-defined]


def test_cuda_version_not_supported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml(cuda=None))
    assert detect_driver() == DriverInfo("570.86.10", None, 1)


@pytest.mark.parametrize("kw", [{"init_fails": True}, {"count": 0}])
def test_no_nvml_or_no_gpu_is_none(monkeypatch: pytest.MonkeyPatch, kw: dict[str, object]) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml(**kw))  # type: ignore[arg-type]
    assert detect_driver() is None


def test_missing_library_is_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynvml", None)  # import raises ImportError
    assert detect_driver() is None

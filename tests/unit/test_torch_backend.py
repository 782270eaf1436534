"""Which torch build an install gets: the driver decides, `--torch` overrides. Pure."""

from __future__ import annotations

import pytest

from comfy_tui.core.torch_backend import (
    choose_backend,
    cuda_from_driver,
    resolve_torch,
    validate_torch,
)
from comfy_tui.errors import ValidationError


@pytest.mark.parametrize(
    ("driver", "cuda", "backend"),
    [
        ("535.183.01", (12, 2), "cu121"),
        ("550.54.15", (12, 4), "cu124"),
        ("560.35.03", (12, 6), "cu126"),
        ("570.86.10", (12, 8), "cu128"),
        ("575.51.03", (12, 9), "cu128"),
        ("580.65.06", (13, 0), "cu130"),
        ("590.10", (13, 1), "cu130"),
        ("525.60.13", (12, 0), "cu118"),
        ("520.61.05", (11, 8), "cu118"),
    ],
)
def test_driver_cuda_version_picks_the_highest_supported_build(
    driver: str, cuda: tuple[int, int], backend: str
) -> None:
    assert choose_backend(driver, cuda).backend == backend


@pytest.mark.parametrize(
    ("driver", "backend"),
    [("535.54", "cu121"), ("550.54", "cu124"), ("570.124", "cu128"), ("580.82", "cu130")],
)
def test_driver_version_alone_is_enough(driver: str, backend: str) -> None:
    choice = choose_backend(driver, None)
    assert choice.backend == backend
    assert driver in choice.reason


def test_cu130_needs_driver_580_even_if_cuda_13_is_claimed() -> None:
    assert choose_backend("575.00", (13, 0)).backend == "cu128"
    assert choose_backend("580.00", (13, 0)).backend == "cu130"


def test_no_nvidia_gpu_means_cpu() -> None:
    choice = choose_backend(None, None)
    assert choice.backend == "cpu"
    assert "no NVIDIA GPU" in choice.reason


@pytest.mark.parametrize(("driver", "cuda"), [("470.82", (11, 4)), ("470.82", None), ("x", None)])
def test_too_old_or_unknown_driver_falls_back_to_cpu(
    driver: str, cuda: tuple[int, int] | None
) -> None:
    assert choose_backend(driver, cuda).backend == "cpu"


def test_cuda_from_driver_table() -> None:
    assert cuda_from_driver("580.65.06") == (13, 0)
    assert cuda_from_driver("555.42") == (12, 5)
    assert cuda_from_driver("450.80") is None
    assert cuda_from_driver(None) is None


@pytest.mark.parametrize("spec", ["cpu", "cu128", "cu118", "rocm6.2", "rocm6.2.4", "none"])
def test_override_is_taken_as_is(spec: str) -> None:
    assert resolve_torch(spec, "580.65", (13, 0)).backend == spec


def test_auto_uses_the_driver() -> None:
    assert resolve_torch("auto", "550.54", (12, 4)).backend == "cu124"
    assert resolve_torch("auto", None, None).backend == "cpu"


@pytest.mark.parametrize(
    "spec", ["", "gpu", "cuda", "cu12", "cu1280", "CPU", "rocm", "rocm6", "cpu;rm -rf ~", " cpu"]
)
def test_invalid_values_are_refused_with_the_choices(spec: str) -> None:
    with pytest.raises(ValidationError, match="use auto, cpu, none, cuXXX"):
        validate_torch(spec)

"""Which torch build a new version gets: cuXXX for the driver, cpu without NVIDIA, or an override.

Pure: the caller passes what NVML said (`driver_version` like "550.54.15", `cuda_version` like
(12, 4), the newest CUDA the driver supports) and the user's `--torch` value.

Rule (as comfy-cli and PyTorch's own selector do it): the highest of cu130, cu128, cu126, cu124,
cu121, cu118 whose CUDA version the driver supports; cu130 also needs a driver >= 580. When NVML
gives no CUDA version, the driver version's minimum-driver table stands in for it. No NVIDIA GPU,
or a driver older than CUDA 11.8 → cpu.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from comfy_tui.errors import ValidationError

__all__ = [
    "CUDA_BUILDS",
    "TorchChoice",
    "choose_backend",
    "cuda_from_driver",
    "resolve_torch",
    "validate_torch",
]

CUDA_BUILDS: tuple[tuple[str, tuple[int, int], int], ...] = (
    # (backend, CUDA version, minimum Linux driver major for that CUDA)
    ("cu130", (13, 0), 580),
    ("cu128", (12, 8), 570),
    ("cu126", (12, 6), 560),
    ("cu124", (12, 4), 550),
    ("cu121", (12, 1), 530),
    ("cu118", (11, 8), 520),
)
"""The CUDA builds PyTorch publishes that we choose from, newest first."""

_DRIVER_TO_CUDA: tuple[tuple[int, tuple[int, int]], ...] = (
    # (minimum driver major, newest CUDA it supports); from NVIDIA's CUDA toolkit release notes
    (580, (13, 0)),
    (570, (12, 8)),
    (560, (12, 6)),
    (555, (12, 5)),
    (550, (12, 4)),
    (545, (12, 3)),
    (535, (12, 2)),
    (530, (12, 1)),
    (525, (12, 0)),
    (520, (11, 8)),
)

_SPEC = re.compile(
    r"auto|cpu|none|cu[0-9]{3}|rocm[0-9]{1,2}\.[0-9]{1,2}(?:\.[0-9]{1,2})?", re.ASCII
)
MIN_CU130_DRIVER = 580


@dataclass(frozen=True)
class TorchChoice:
    """The torch build to install and why (shown in the log and the CLI)."""

    backend: str  # "cu128", "cpu", "rocm6.2", "none"
    reason: str


def validate_torch(value: str) -> str:
    """Check a `--torch` value: auto, cpu, none, cuXXX (cu128) or rocmX.Y (rocm6.2)."""
    if not isinstance(value, str) or not _SPEC.fullmatch(value):
        shown = repr(value)[:40]
        raise ValidationError(
            f"invalid torch build {shown}: use auto, cpu, none, cuXXX (e.g. cu128) "
            "or rocmX.Y (e.g. rocm6.2)"
        )
    return value


def _driver_major(driver_version: str | None) -> int | None:
    if not driver_version:
        return None
    head = driver_version.split(".", 1)[0]
    return int(head) if head.isdigit() else None


def cuda_from_driver(driver_version: str | None) -> tuple[int, int] | None:
    """The newest CUDA a Linux driver of this version supports, or None when unknown/too old."""
    major = _driver_major(driver_version)
    if major is None:
        return None
    for min_major, cuda in _DRIVER_TO_CUDA:
        if major >= min_major:
            return cuda
    return None


def choose_backend(driver_version: str | None, cuda_version: tuple[int, int] | None) -> TorchChoice:
    """The best CUDA build for this driver, or cpu when there is no (usable) NVIDIA driver."""
    if driver_version is None and cuda_version is None:
        return TorchChoice("cpu", "no NVIDIA GPU found")
    cuda = cuda_version or cuda_from_driver(driver_version)
    major = _driver_major(driver_version)
    shown = f"driver {driver_version or '?'}"
    if cuda is None:
        return TorchChoice("cpu", f"{shown}: CUDA version unknown, using the CPU build")
    shown += f", CUDA {cuda[0]}.{cuda[1]}"
    for backend, needs, _ in CUDA_BUILDS:
        if needs > cuda:
            continue
        if backend == "cu130" and major is not None and major < MIN_CU130_DRIVER:
            continue
        return TorchChoice(backend, f"{shown} supports {backend}")
    return TorchChoice("cpu", f"{shown} is older than CUDA 11.8; using the CPU build")


def resolve_torch(
    spec: str, driver_version: str | None, cuda_version: tuple[int, int] | None
) -> TorchChoice:
    """Apply the user's `--torch` value: auto picks from the driver, the rest is taken as is."""
    spec = validate_torch(spec)
    if spec == "auto":
        return choose_backend(driver_version, cuda_version)
    if spec == "none":
        return TorchChoice("none", "torch left to requirements.txt and the configured index")
    return TorchChoice(spec, f"asked for {spec}")

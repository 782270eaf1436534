"""Which torch build an environment really holds, and whether it is the one asked for. Pure.

The build is what torch itself says (`torch.version.cuda`, `torch.version.hip`,
`torch.backends.mps`), not its version label: PyPI's Linux torch is a CUDA 13.0 build whose
version has no ``+cu130``. Before anything is downloaded, `check_plan` looks at a dry run's
versions: the family must carry one label, and a label that names another build is refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from comfy_tui.errors import InstallError

__all__ = ["PROBE_SCRIPT", "TorchBuild", "check_plan", "cuda_of_backend"]

PROBE_SCRIPT = """
import json, sys
out = {}
try:
    import torch
except Exception as exc:
    sys.stdout.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\\n")
    sys.exit(0)
version = getattr(torch, "version", None)
out["torch"] = str(getattr(torch, "__version__", ""))
out["cuda"] = getattr(version, "cuda", None)
out["hip"] = getattr(version, "hip", None)
try:
    out["mps"] = bool(torch.backends.mps.is_built())
except Exception:
    out["mps"] = False
try:
    import torchvision
    out["torchvision"] = str(getattr(torchvision, "__version__", ""))
except ImportError:
    out["torchvision"] = ""
except Exception as exc:
    out["torchvision_error"] = f"{type(exc).__name__}: {exc}"
sys.stdout.write(json.dumps(out) + "\\n")
"""
"""Run with the new environment's Python; prints one JSON object."""


def cuda_of_backend(backend: str) -> tuple[int, int] | None:
    """(13, 0) for "cu130", (12, 8) for "cu128"; None for anything else."""
    digits = backend[2:] if backend.startswith("cu") else ""
    if len(digits) < 3 or not digits.isdigit():
        return None
    return int(digits[:-1]), int(digits[-1])


def _version_tuple(text: str) -> tuple[int, ...]:
    parts = []
    for piece in text.split("."):
        if not piece.isdigit():
            break
        parts.append(int(piece))
    return tuple(parts)


@dataclass(frozen=True)
class TorchBuild:
    """What `PROBE_SCRIPT` found."""

    version: str = ""
    cuda: str | None = None
    hip: str | None = None
    mps: bool = False
    torchvision: str = ""
    torchvision_error: str = ""
    error: str = ""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> TorchBuild:
        def text(key: str) -> str | None:
            value = data.get(key)
            return str(value) if value else None

        return cls(
            version=str(data.get("torch") or ""),
            cuda=text("cuda"),
            hip=text("hip"),
            mps=bool(data.get("mps")),
            torchvision=str(data.get("torchvision") or ""),
            torchvision_error=str(data.get("torchvision_error") or ""),
            error=str(data.get("error") or ""),
        )

    @classmethod
    def from_kind(cls, version: str, kind: str) -> TorchBuild:
        """The build a record's `torch_build` ("CUDA 13.0", "ROCm 6.2", "CPU") stands for."""
        head, _, number = kind.partition(" ")
        return cls(
            version=version,
            cuda=number if head == "CUDA" else None,
            hip=number if head == "ROCm" else None,
            mps=head == "MPS",
        )

    @property
    def kind(self) -> str:
        """ "CUDA 13.0", "ROCm 6.2", "MPS", "CPU", or "" when torch did not import."""
        if self.error or not self.version:
            return ""
        if self.cuda:
            return f"CUDA {self.cuda}"
        if self.hip:
            return f"ROCm {'.'.join(self.hip.split('.')[:2])}"
        return "MPS" if self.mps else "CPU"

    def describe(self) -> str:
        if not self.kind:
            return f"torch does not import ({self.error})" if self.error else "no torch"
        return f"torch {self.version}: a {self.kind} build"

    def check(self, backend: str) -> str:
        """Raise InstallError unless this is a `backend` build; returns a note ("" if none)."""
        if self.error:
            raise InstallError(f"torch was installed but does not import: {self.error}")
        if self.torchvision_error:
            raise InstallError(
                f"torchvision {self.torchvision} does not fit torch {self.version} "
                f"({self.torchvision_error[:160]}): they came from different builds"
            )
        wanted = cuda_of_backend(backend)
        if wanted is not None:
            if not self.cuda:
                raise InstallError(
                    f"torch {self.version} is a {self.kind} build, not the {backend} build "
                    "asked for: set torch_index_url to an index with CUDA wheels, or choose "
                    "another build with --torch"
                )
            got = _version_tuple(self.cuda)
            if got[:2] > wanted:
                raise InstallError(
                    f"torch {self.version} is a {self.kind} build, newer than the {backend} "
                    f"asked for (this driver may not run it): choose --torch "
                    f"cu{got[0]}{got[1] if len(got) > 1 else 0} or another torch_index_url"
                )
        elif backend.startswith("rocm") and not self.hip:
            raise InstallError(
                f"torch {self.version} is a {self.kind} build, not the {backend} build asked for"
            )
        elif backend == "cpu" and self.kind != "CPU":
            return "it runs on the CPU too, but is larger than a CPU build"
        return ""


def _label(version: str) -> str:
    return version.partition("+")[2].lower()


def check_plan(plan: Mapping[str, str], backend: str) -> None:
    """Refuse a dry run whose torch family mixes builds, or whose label names another build."""
    torch = plan.get("torch", "")
    labels = {name: _label(plan[name]) for name in ("torch", "torchvision", "torchaudio")
              if plan.get(name)}  # fmt: skip
    if len(set(labels.values())) > 1:
        shown = ", ".join(f"{name} {plan[name]}" for name in labels)
        raise InstallError(
            f"the torch source offers a mixed family ({shown}): refused before downloading; "
            "set torch_index_url to one index that holds the whole family"
        )
    label = labels.get("torch", "")
    if torch and label and backend != "none" and label != backend.lower():
        raise InstallError(
            f"the torch source gave torch {torch}, not a {backend} build: add {backend} "
            "wheels or set torch_index_url, pick another build with --torch, or use --torch none"
        )

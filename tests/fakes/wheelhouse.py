"""A wheelhouse built in the test with plain zipfile: real wheels, tiny, no network, no index.

`build_wheelhouse(dir)` writes:
- `tinydep` 1.0 (the package the fake ComfyUI's requirements.txt names),
- `requests` 2.0 (a stub: pip installs of old tags add it, as real ones need),
- the torch family for each build label (default ``cpu`` and ``cu128``): ``torch 2.5.1+<label>``,
  ``torchvision 0.20.1+<label>`` and ``torchaudio 2.5.1+<label>``, each pinning its torch, so
  choosing the build and pinning it in the requirements step are real resolver work;
- optionally an unlabelled ``torch 2.6.0`` (what PyPI serves on Linux: a CUDA 13.0 build).

Each fake torch has `torch.version.cuda`/`.hip` and `torch.backends.mps.is_built()`, so the
build check asks it what it is, as it asks real torch.
"""

from __future__ import annotations

import base64
import hashlib
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

TORCH = "2.5.1"
TORCHVISION = "0.20.1"
TORCHAUDIO = "2.5.1"


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def build_wheel(
    dest: Path,
    name: str,
    version: str,
    *,
    requires: Iterable[str] = (),
    files: Mapping[str, str | bytes] | None = None,
) -> Path:
    """Write `<name>-<version>-py3-none-any.whl` into `dest`: a real, installable wheel.

    `files` maps paths inside the wheel to text or bytes; by default one module
    `<name>/__init__.py` with `__version__`.
    """
    dest.mkdir(parents=True, exist_ok=True)
    module = name.replace("-", "_")
    dist_info = f"{module}-{version}.dist-info"
    content: dict[str, str | bytes] = dict(
        files or {f"{module}/__init__.py": f'__version__ = "{version}"\n'}
    )
    metadata = [
        "Metadata-Version: 2.1",
        f"Name: {name}",
        f"Version: {version}",
        *(f"Requires-Dist: {r}" for r in requires),
    ]
    content[f"{dist_info}/METADATA"] = "\n".join(metadata) + "\n"
    content[f"{dist_info}/WHEEL"] = (
        "Wheel-Version: 1.0\nGenerator: comfy-tui-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    record_lines = []
    path = dest / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as whl:
        for arcname, text in content.items():
            data = text.encode() if isinstance(text, str) else text
            whl.writestr(arcname, data)
            record_lines.append(f"{arcname},{_record_hash(data)},{len(data)}")
        record_lines.append(f"{dist_info}/RECORD,,")
        whl.writestr(f"{dist_info}/RECORD", "\n".join(record_lines) + "\n")
    return path


def build_of(label: str) -> tuple[str | None, str | None]:
    """(torch.version.cuda, torch.version.hip) a build label stands for: cu128 → ("12.8", None)."""
    if label.startswith("cu") and label[2:].isdigit():
        return f"{int(label[2:-1])}.{label[-1]}", None
    if label.startswith("rocm"):
        return None, label[4:]
    return None, None


def torch_files(version: str, cuda: str | None, hip: str | None) -> dict[str, str | bytes]:
    """A fake `torch` package that says which build it is, as real torch does."""
    return {
        "torch/__init__.py": (f'__version__ = "{version}"\nfrom torch import version, backends\n'),
        "torch/version.py": f"__version__ = {version!r}\ncuda = {cuda!r}\nhip = {hip!r}\n",
        "torch/backends.py": (
            "class mps:\n    @staticmethod\n    def is_built():\n        return False\n"
        ),
    }


def build_torch(
    dest: Path, version: str, *, cuda: str | None = None, hip: str | None = None,
    payload: bytes = b"",
) -> Path:  # fmt: skip
    """One fake torch wheel of the given build (CUDA `cuda`, ROCm `hip`, else CPU)."""
    files = torch_files(version, cuda, hip)
    if payload:
        files["torch/lib/libtorch_fake.so"] = payload
    return build_wheel(dest, "torch", version, files=files)


def build_torch_family(dest: Path, label: str, *, payload: bytes = b"") -> None:
    """torch, torchvision and torchaudio of one build (`label` like "cpu" or "cu128").

    `payload` goes into torch as a data file, to give the wheel a realistic weight.
    """
    torch = f"{TORCH}+{label}"
    cuda, hip = build_of(label)
    build_torch(dest, torch, cuda=cuda, hip=hip, payload=payload)
    build_wheel(dest, "torchvision", f"{TORCHVISION}+{label}", requires=[f"torch=={torch}"])
    build_wheel(dest, "torchaudio", f"{TORCHAUDIO}+{label}", requires=[f"torch=={torch}"])


def build_wheelhouse(
    dest: Path,
    *,
    labels: Iterable[str] = ("cpu", "cu128"),
    pypi_torch: bool = False,
    torch_payload: bytes = b"",
) -> Path:
    """Everything the fake ComfyUI needs, in `dest` (created). Returns `dest`."""
    build_wheel(dest, "tinydep", "1.0")
    build_wheel(dest, "requests", "2.0")
    for label in labels:
        build_torch_family(dest, label, payload=torch_payload)
    if pypi_torch:
        build_torch(dest, "2.6.0", cuda="13.0")
    return dest

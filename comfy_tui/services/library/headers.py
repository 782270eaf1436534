"""Understand a model file from its header only: format, tensors, parameters, architecture.

`read_header` never raises for what a file contains: a bad header becomes status "unreadable"
with a reason, and pickle formats (.ckpt, .pt, .bin, ...) are never opened at all — they are
marked "pickle", because loading one can run code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from comfy_tui.services.library.architecture import Guess, guess_gguf, guess_safetensors
from comfy_tui.services.library.folder_types import PICKLE_EXTENSIONS
from comfy_tui.services.library.gguf import read_gguf_header
from comfy_tui.services.library.safetensors import HeaderError, read_safetensors_header

__all__ = ["PICKLE_WARNING", "HeaderInfo", "format_of", "read_header"]

PICKLE_WARNING = "pickle — can run code when loaded"

_FORMATS = {".safetensors": "safetensors", ".sft": "safetensors", ".gguf": "gguf"}


@dataclass(frozen=True)
class HeaderInfo:
    format: str  # "safetensors", "gguf", "pickle", "other"
    status: str = "ok"  # "ok", "unreadable", "pickle"
    problem: str = ""
    guess: Guess = field(default_factory=Guess)
    parameters: int | None = None
    tensors: int | None = None
    dtypes: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def tags(self) -> str:
        words = [self.guess.kind, self.format, self.status if self.status != "ok" else ""]
        for key in ("ss_base_model_version", "modelspec.architecture", "modelspec.title"):
            value = self.metadata.get(key)
            if isinstance(value, str):
                words.append(value[:80])
        return " ".join(w for w in words if w)


def format_of(name: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in PICKLE_EXTENSIONS:
        return "pickle"
    return _FORMATS.get(suffix, "other")


def read_header(path: Path) -> HeaderInfo:
    """Read what the header of `path` says (pickles and other formats are not opened)."""
    fmt = format_of(path.name)
    if fmt == "pickle":
        return HeaderInfo(fmt, "pickle", PICKLE_WARNING)
    if fmt == "other":
        return HeaderInfo(fmt)
    try:
        if fmt == "safetensors":
            st = read_safetensors_header(path)
            shapes = {name: t.shape for name, t in st.tensors.items()}
            return HeaderInfo(
                fmt,
                guess=guess_safetensors(shapes, st.metadata),
                parameters=st.parameters,
                tensors=len(st.tensors),
                dtypes=st.dtypes,
                metadata=dict(st.metadata),
            )
        gg = read_gguf_header(path)
        meta = {k: v for k, v in gg.metadata.items() if not k.startswith("tokenizer.")}
        return HeaderInfo(
            fmt,
            guess=guess_gguf(gg.architecture),
            parameters=gg.parameters,
            tensors=len(gg.tensor_names),
            dtypes=gg.dtypes,
            metadata=dict(list(meta.items())[:64]),
        )
    except HeaderError as exc:
        return HeaderInfo(fmt, "unreadable", str(exc))
    except OSError as exc:
        return HeaderInfo(fmt, "unreadable", f"cannot read: {exc.strerror or exc}")

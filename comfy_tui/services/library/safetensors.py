"""Read a safetensors header: 8-byte little-endian length, then that many bytes of JSON.

Nothing past the header is read. A header longer than `MAX_HEADER_BYTES`, a file shorter than
its header claims, JSON that does not parse or does not describe tensors, and tensor data that
would lie past the end of the file all raise `HeaderError` with a one-line reason.
"""

from __future__ import annotations

import json
import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path

from comfy_tui.core.units import format_bytes

__all__ = [
    "MAX_HEADER_BYTES",
    "HeaderError",
    "SafetensorsHeader",
    "TensorInfo",
    "parse_header",
    "read_safetensors_header",
]

MAX_HEADER_BYTES = 100 * 1024 * 1024
MAX_METADATA_VALUE = 2_000
"""Longer `__metadata__` values (kohya's tag frequencies, ...) are cut when stored."""


class HeaderError(Exception):
    """The file is not a readable model of its format; the message says why, in one line."""


@dataclass(frozen=True)
class TensorInfo:
    dtype: str
    shape: tuple[int, ...]

    @property
    def parameters(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class SafetensorsHeader:
    tensors: dict[str, TensorInfo]
    metadata: dict[str, str]

    @property
    def parameters(self) -> int:
        return sum(t.parameters for t in self.tensors.values())

    @property
    def dtypes(self) -> tuple[str, ...]:
        return tuple(sorted({t.dtype for t in self.tensors.values()}))


def parse_header(raw: bytes, data_bytes: int | None = None) -> SafetensorsHeader:
    """Validate the JSON header; `data_bytes` (file size minus header) bounds tensor offsets."""
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HeaderError(f"header is not JSON ({str(exc).splitlines()[0][:80]})") from None
    if not isinstance(doc, dict):
        raise HeaderError(f"header is a JSON {type(doc).__name__}, not an object")
    metadata: dict[str, str] = {}
    raw_meta = doc.pop("__metadata__", None)
    if isinstance(raw_meta, dict):
        for key, value in raw_meta.items():
            text = value if isinstance(value, str) else json.dumps(value)
            metadata[str(key)] = text[:MAX_METADATA_VALUE]
    tensors: dict[str, TensorInfo] = {}
    end = 0
    for name, entry in doc.items():
        if not isinstance(entry, dict):
            raise HeaderError(f"tensor {name[:60]!r} is not described by an object")
        dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
        if (
            not isinstance(dtype, str)
            or not isinstance(shape, list)
            or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape)
            or not isinstance(offsets, list)
            or len(offsets) != 2
            or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
            or not 0 <= offsets[0] <= offsets[1]
        ):
            raise HeaderError(f"tensor {name[:60]!r} has a malformed dtype, shape or offsets")
        tensors[name] = TensorInfo(dtype, tuple(shape))
        end = max(end, offsets[1])
    if data_bytes is not None and end > data_bytes:
        raise HeaderError(
            f"truncated: tensor data ends at {format_bytes(end)} but the file holds "
            f"{format_bytes(data_bytes)} after the header"
        )
    return SafetensorsHeader(tensors, metadata)


def read_safetensors_header(path: Path) -> SafetensorsHeader:
    """Open `path`, read only its header, and parse it."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        prefix = f.read(8)
        if len(prefix) < 8:
            raise HeaderError(f"truncated: {len(prefix)} bytes, shorter than the 8-byte length")
        (length,) = struct.unpack("<Q", prefix)
        if length > MAX_HEADER_BYTES:
            raise HeaderError(
                f"header claims {format_bytes(length)}, over the "
                f"{format_bytes(MAX_HEADER_BYTES)} limit"
            )
        if length > size - 8:
            raise HeaderError(
                f"truncated: header claims {format_bytes(length)} but the file has "
                f"{format_bytes(size - 8)} after the length"
            )
        raw = f.read(length)
    if len(raw) < length:
        raise HeaderError("truncated while reading the header")
    return parse_header(raw, size - 8 - length)

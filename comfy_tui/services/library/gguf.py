"""Read a GGUF header (versions 2 and 3): key/value metadata and tensor infos, no tensor data.

Layout: magic `GGUF`, u32 version, u64 tensor count, u64 key/value count, the key/value pairs,
then per tensor its name, dimensions, ggml type and offset. Reading stops with `HeaderError`
past `MAX_HEADER_BYTES`, on a short read, or on counts and lengths no real file has.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from comfy_tui.core.units import format_bytes
from comfy_tui.services.library.safetensors import MAX_HEADER_BYTES, HeaderError

__all__ = ["GgufHeader", "read_gguf_header"]

MAGIC = b"GGUF"
MAX_COUNT = 10_000_000
MAX_STRING = 16 * 1024 * 1024
MAX_DIMS = 8
MAX_STORED_VALUE = 500

_SCALARS: dict[int, str] = {
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9

GGML_TYPES: dict[int, str] = {
    0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1",
    10: "Q2_K", 11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 16: "IQ2_XXS",
    17: "IQ2_XS", 18: "IQ3_XXS", 19: "IQ1_S", 20: "IQ4_NL", 21: "IQ3_S", 22: "IQ2_S",
    23: "IQ4_XS", 24: "I8", 25: "I16", 26: "I32", 27: "I64", 28: "F64", 29: "IQ1_M",
    30: "BF16", 34: "TQ1_0", 35: "TQ2_0",
}  # fmt: skip


@dataclass(frozen=True)
class GgufHeader:
    version: int
    metadata: dict[str, Any]  # scalars and strings; arrays summarised as "[N items]"
    tensor_names: tuple[str, ...]
    parameters: int
    dtypes: tuple[str, ...]

    @property
    def architecture(self) -> str:
        value = self.metadata.get("general.architecture", "")
        return value if isinstance(value, str) else ""


class _Reader:
    """Bounded little-endian reads from a buffered file."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f = f
        self.consumed = 0

    def take(self, n: int) -> bytes:
        self.consumed += n
        if self.consumed > MAX_HEADER_BYTES:
            raise HeaderError(f"header runs past the {format_bytes(MAX_HEADER_BYTES)} limit")
        data = self.f.read(n)
        if len(data) < n:
            raise HeaderError("truncated: the file ends inside the GGUF header")
        return data

    def unpack(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def count(self, what: str) -> int:
        n = int(self.unpack("<Q"))
        if n > MAX_COUNT:
            raise HeaderError(f"GGUF {what} count {n:,} is not plausible")
        return n

    def string(self) -> str:
        n = int(self.unpack("<Q"))
        if n > MAX_STRING:
            raise HeaderError(f"GGUF string of {n:,} bytes is not plausible")
        return self.take(n).decode("utf-8", errors="replace")

    def value(self, vtype: int, *, keep: bool = True) -> Any:
        if vtype in _SCALARS:
            return self.unpack(_SCALARS[vtype])
        if vtype == _STRING:
            text = self.string()
            return text[:MAX_STORED_VALUE] if keep else None
        if vtype == _ARRAY:
            etype = int(self.unpack("<I"))
            n = self.count("array")
            if etype in _SCALARS:  # skip a block of fixed-size items in one read
                self.take(struct.calcsize(_SCALARS[etype]) * n)
            else:
                for _ in range(n):
                    self.value(etype, keep=False)
            return f"[{n} items]"
        raise HeaderError(f"unknown GGUF value type {vtype}")


def read_gguf_header(path: Path) -> GgufHeader:
    """Parse the header of the GGUF file at `path`."""
    with open(path, "rb") as f:
        r = _Reader(f)
        if r.take(4) != MAGIC:
            raise HeaderError("not a GGUF file (bad magic)")
        version = int(r.unpack("<I"))
        if version not in (2, 3):
            raise HeaderError(f"GGUF version {version} is not supported (2 and 3 are)")
        n_tensors = r.count("tensor")
        n_kv = r.count("key/value")
        metadata: dict[str, Any] = {}
        for _ in range(n_kv):
            key = r.string()
            metadata[key] = r.value(int(r.unpack("<I")))
        names: list[str] = []
        parameters = 0
        dtypes: set[str] = set()
        for _ in range(n_tensors):
            names.append(r.string())
            n_dims = int(r.unpack("<I"))
            if n_dims > MAX_DIMS:
                raise HeaderError(f"GGUF tensor with {n_dims} dimensions is not plausible")
            dims = struct.unpack(f"<{n_dims}Q", r.take(8 * n_dims))
            gtype = int(r.unpack("<I"))
            r.take(8)  # offset
            parameters += math.prod(dims)
            dtypes.add(GGML_TYPES.get(gtype, f"type{gtype}"))
    return GgufHeader(version, metadata, tuple(names), parameters, tuple(sorted(dtypes)))

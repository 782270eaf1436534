"""Is a finished download what its name says? The first bytes are checked before it is accepted.

A login page or an API error saved as ``model.safetensors`` must never reach the library. By
extension: ``.safetensors``/``.sft`` need an 8-byte header length that fits the file and a JSON
object after it; ``.gguf`` the GGUF magic; ``.ckpt``/``.pt``/``.pth``/``.bin`` a zip (torch's
format) or a pickle. Any other extension (except text formats) is only refused when it is
plainly a web page.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Callable

WEB_PAGE = (
    "the server sent a web page (a login page?) instead of {name}"
    " — set CIVITAI_API_TOKEN / HF_TOKEN"
)

SAFETENSORS = frozenset({".safetensors", ".sft"})
GGUF = frozenset({".gguf"})
TORCH = frozenset({".ckpt", ".pt", ".pth", ".bin"})
MODEL_SUFFIXES = SAFETENSORS | GGUF | TORCH
TEXT_SUFFIXES = frozenset({".json", ".yaml", ".yml", ".txt", ".md", ".html", ".htm", ".csv"})

MAX_SAFETENSORS_HEADER = 100 * 1024 * 1024
"""The safetensors format's own limit on the JSON header."""

_HEAD = 4096
_WEB_STARTS = (b"<!doctype", b"<html", b"<head", b"<body", b"<?xml", b"<!--", b"<title")

Reader = Callable[[int, int], bytes]
"""read(offset, length) → at most `length` bytes of the file from `offset`."""


def suffix_of(name: str) -> str:
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def is_model_name(name: str) -> bool:
    return suffix_of(name) in MODEL_SUFFIXES


def looks_like_web_page(head: bytes) -> bool:
    """HTML, XML or a JSON document (an API error), judged by the first bytes."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith(_WEB_STARTS):
        return True
    if text[:1] in (b"{", b"["):
        try:
            json.loads(head.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            return text.startswith((b'{"', b"[{", b"[]", b"{}", b'{ "'))
        return True
    return False


def is_web_content_type(content_type: str | None) -> bool:
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return kind in ("text/html", "application/xhtml+xml")


def check_bytes(name: str, size: int, read: Reader) -> str | None:
    """Why the file named `name` (of `size` bytes) is not what it claims, or None when it is."""
    suffix = suffix_of(name)
    head = read(0, _HEAD)
    if suffix in TEXT_SUFFIXES:
        return None
    if looks_like_web_page(head) and not (suffix in SAFETENSORS and _safetensors_ok(size, read)):
        return WEB_PAGE.format(name=name)
    if suffix in SAFETENSORS:
        return _check_safetensors(name, size, read)
    if suffix in GGUF and not head.startswith(b"GGUF"):
        return f"{name} is not a GGUF file (no GGUF magic at its start)"
    if suffix in TORCH and not _torch_like(head):
        return f"{name} is neither a zip (torch.save) nor a pickle file"
    return None


def _torch_like(head: bytes) -> bool:
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return True
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def _safetensors_ok(size: int, read: Reader) -> bool:
    return _check_safetensors("", size, read) is None


def _check_safetensors(name: str, size: int, read: Reader) -> str | None:
    if size < 8:
        return f"{name} is too short to be a safetensors file ({size} bytes)"
    (length,) = struct.unpack("<Q", read(0, 8))
    if length < 2 or length > MAX_SAFETENSORS_HEADER:
        return f"{name} is not a safetensors file (header length {length})"
    if 8 + length > size:
        return (
            f"{name} is truncated: its safetensors header needs {8 + length} bytes,"
            f" the file has {size}"
        )
    raw = read(8, length)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return f"{name} is not a safetensors file (its header is not JSON)"
    if not isinstance(header, dict):
        return f"{name} is not a safetensors file (its header is not a JSON object)"
    return None


def check_fd(name: str, fd: int) -> str | None:
    """`check_bytes` on an open file descriptor (blocking: call from a worker thread)."""
    size = os.fstat(fd).st_size

    def read(offset: int, length: int) -> bytes:
        return os.pread(fd, length, offset)

    return check_bytes(name, size, read)

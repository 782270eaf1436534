"""Download payloads that pass the content check of their file type, with random bytes inside.

`pickle_payload` for ``.bin``/``.pt``/``.ckpt`` (a pickle protocol header), `safetensors_payload`
for ``.safetensors`` (a real JSON header, the rest random), `gguf_payload` for ``.gguf``.
"""

from __future__ import annotations

import json
import os
import struct


def pickle_payload(size: int) -> bytes:
    return b"\x80\x04" + os.urandom(size - 2)


def safetensors_payload(size: int) -> bytes:
    header = json.dumps({"__metadata__": {"format": "pt"}}).encode()
    header += b" " * (-len(header) % 8)
    head = struct.pack("<Q", len(header)) + header
    return head + os.urandom(size - len(head))


def gguf_payload(size: int) -> bytes:
    return b"GGUF" + os.urandom(size - 4)

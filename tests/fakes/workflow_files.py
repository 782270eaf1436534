"""Workflows as ComfyUI writes them: API format, UI format, and images that carry them.

`png_with(texts)` builds a 1x1 PNG with one ``tEXt`` (or ``iTXt``) chunk per key, like
ComfyUI's SaveImage (``prompt`` = API format, ``workflow`` = UI format); `webp_with(texts)`
a WebP whose EXIF holds ``prompt:{…}`` / ``workflow:{…}``.
"""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any


def api_flow() -> dict[str, Any]:
    return {
        "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "sd15.safetensors"}},
        "10": {"class_type": "LoraLoader",
               "inputs": {"lora_name": "styles\\ink.safetensors", "model": ["4", 0]}},
        "11": {"class_type": "VAELoader", "inputs": {"vae_name": "ae.safetensors"}},
        "6": {"class_type": "CLIPTextEncode",
              "inputs": {"text": "a cat, embedding:EasyNegative, (embedding:good.pt:1.2)"}},
        "20": {"class_type": "UnetLoaderGGUF", "inputs": {"unet_name": "flux1-dev-Q4_K_S.gguf"}},
        "21": {"class_type": "SomeCustomLoader", "inputs": {"model_file": "custom/thing.pth"}},
        "30": {"class_type": "KSampler", "inputs": {"seed": 1, "model": ["10", 0]}},
    }  # fmt: skip


def ui_flow(models: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "last_node_id": 3,
        "nodes": [
            {"id": 1, "type": "CheckpointLoaderSimple", "widgets_values": ["sd15.safetensors"]},
            {"id": 2, "type": "DualCLIPLoader",
             "widgets_values": ["clip_l.safetensors", "t5xxl_fp8.safetensors", "flux", "default"],
             "properties": {"models": models or []}},
            {"id": 3, "type": "UpscaleModelLoader", "widgets_values": ["4x-UltraSharp.pth"]},
            {"id": 4, "type": "Note", "widgets_values": ["see model.safetensors on the wiki\nok"]},
        ],
        "links": [],
    }  # fmt: skip


def _chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)


def png_with(texts: dict[str, Any], *, itxt: bool = False) -> bytes:
    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00\x00\x00")
    chunks = [_chunk(b"IHDR", header)]
    for key, value in texts.items():
        text = json.dumps(value)
        if itxt:
            body = key.encode() + b"\0\x01\x00\0\0" + zlib.compress(text.encode())
            chunks.append(_chunk(b"iTXt", body))
        else:
            chunks.append(_chunk(b"tEXt", key.encode("latin-1") + b"\0" + text.encode("latin-1")))
    chunks += [_chunk(b"IDAT", pixels), _chunk(b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(chunks)


def webp_with(texts: dict[str, Any]) -> bytes:
    exif = b"Exif\0\0MM\0*" + b"".join(
        f"{key}:{json.dumps(value)}".encode() + b"\0" for key, value in texts.items()
    )
    body = b"WEBP" + b"VP8X" + struct.pack("<I", 10) + bytes(10)
    body += b"EXIF" + struct.pack("<I", len(exif)) + exif + b"\0" * (len(exif) % 2)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def flac_with(texts: dict[str, Any]) -> bytes:
    """A FLAC header with STREAMINFO and a VORBIS_COMMENT block holding ``key=json``."""
    vendor = b"comfy-tui tests"
    comments = [f"{key}={json.dumps(value)}".encode() for key, value in texts.items()]
    block = struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", len(comments))
    block += b"".join(struct.pack("<I", len(c)) + c for c in comments)
    streaminfo = bytes(34)
    return (
        b"fLaC"
        + bytes([0]) + len(streaminfo).to_bytes(3, "big") + streaminfo
        + bytes([0x80 | 4]) + len(block).to_bytes(3, "big") + block
    )  # fmt: skip

"""The content check of finished downloads: a model is what its extension says, not a web page."""

from __future__ import annotations

import json
import struct

import pytest

from comfy_tui.services.downloads.sniff import check_bytes, looks_like_web_page

LOGIN = b"<!DOCTYPE html>\n<html><head><title>Log in</title></head><body>form</body></html>"


def safetensors(header: dict[str, object], data: bytes = b"\0" * 16) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + data


def check(name: str, data: bytes) -> str | None:
    return check_bytes(name, len(data), lambda offset, n: data[offset : offset + n])


@pytest.mark.parametrize("name", ["m.safetensors", "m.sft", "m.gguf", "m.ckpt", "m.pt", "m.pth",
                                  "m.bin", "m.onnx", "noextension"])  # fmt: skip
def test_an_html_login_page_is_refused(name: str) -> None:
    problem = check(name, LOGIN)
    assert problem is not None and "the server sent a web page (a login page?)" in problem
    assert "CIVITAI_API_TOKEN / HF_TOKEN" in problem


def test_a_json_error_body_is_a_web_page_too() -> None:
    body = b'{"error": "Unauthorized", "message": "log in to download"}'
    assert "web page" in (check("m.safetensors", body) or "")
    assert check("config.json", body) is None  # a JSON file may be JSON


def test_a_good_safetensors_passes() -> None:
    tensor = {"dtype": "F16", "shape": [2, 4], "data_offsets": [0, 16]}
    assert check("m.safetensors", safetensors({"w": tensor})) is None


def test_a_truncated_safetensors_header_is_refused() -> None:
    whole = safetensors({"__metadata__": {"a": "b" * 100}})
    problem = check("m.safetensors", whole[:60])
    assert problem is not None and "truncated" in problem


@pytest.mark.parametrize(
    "data",
    [
        b"\x01\x02",
        struct.pack("<Q", 10**12) + b"{}",
        struct.pack("<Q", 4) + b"\xff\xfe\x00\x01",
        struct.pack("<Q", 2) + b"[]",
    ],
)
def test_not_a_safetensors_file(data: bytes) -> None:
    assert check("m.safetensors", data) is not None


def test_gguf_and_torch_magic() -> None:
    assert check("m.gguf", b"GGUF\x03\x00\x00\x00" + bytes(32)) is None
    assert check("m.gguf", b"GGML" + bytes(32)) is not None
    assert check("m.ckpt", b"PK\x03\x04" + bytes(32)) is None  # torch.save's zip
    assert check("m.pt", b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8") is None  # legacy pickle
    assert check("m.bin", b"just some text, not a model") is not None


def test_text_formats_and_unknown_binaries_pass() -> None:
    assert check("notes.txt", LOGIN) is None
    assert check("m.onnx", b"\x08\x07\x12\x07pytorch") is None


def test_looks_like_web_page() -> None:
    assert looks_like_web_page(b"\xef\xbb\xbf  <html>")
    assert looks_like_web_page(b"[1, 2]")
    assert not looks_like_web_page(b"\x80\x02}q\x00")

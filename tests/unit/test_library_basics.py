"""Folder names, search queries and sizes: the pure parts of the model library."""

from __future__ import annotations

import pytest

from comfy_tui.core.units import format_bytes, format_count
from comfy_tui.errors import ValidationError
from comfy_tui.services.library.folder_types import (
    FOLDERS,
    canonical_folder,
    folder_dirs,
    folder_of,
    is_model_file,
    validate_folder,
)
from comfy_tui.services.library.search import fts_query, search_filter


def test_comfyui_folder_names_and_aliases() -> None:
    for name in ("checkpoints", "loras", "vae", "text_encoders", "diffusion_models", "controlnet"):
        assert name in FOLDERS
    assert canonical_folder("unet") == "diffusion_models"
    assert canonical_folder("clip") == "text_encoders"
    assert canonical_folder("t2i_adapter") == "controlnet"
    assert canonical_folder("my_kind") == "my_kind"
    assert folder_dirs("diffusion_models") == ("diffusion_models", "unet")
    assert folder_dirs("loras") == ("loras",)


def test_folder_of_a_path() -> None:
    assert folder_of("loras/style/x.safetensors") == "loras"
    assert folder_of("unet/flux.gguf") == "diffusion_models"
    assert folder_of("loose.safetensors") == "unsorted"


@pytest.mark.parametrize(
    ("relpath", "expected"),
    [
        ("checkpoints/a.safetensors", True),
        ("checkpoints/a.SFT", True),
        ("loras/a.ckpt", True),
        ("unet/a.gguf", True),
        ("configs/v1.yaml", True),
        ("loras/v1.yaml", False),
        ("loras/readme.txt", False),
        ("loras/preview.png", False),
        ("loras/noext", False),
    ],
)
def test_which_files_are_models(relpath: str, expected: bool) -> None:
    assert is_model_file(relpath) is expected


def test_validate_folder() -> None:
    assert validate_folder("loras") == "loras"
    assert validate_folder("unet") == "diffusion_models"
    assert validate_folder("my_kind") == "my_kind"
    for bad in ("", "../x", "a/b", ".hidden", "unsorted", "has space"):
        with pytest.raises(ValidationError):
            validate_folder(bad)


@pytest.mark.parametrize(
    ("text", "query"),
    [
        (None, None),
        ("", None),
        ("   ", None),
        ("--", None),
        ("sdxl", '"sdxl"*'),
        ("sd_xl base", '"sd"* AND "xl"* AND "base"*'),
        ('a" OR b', '"a"* AND "OR"* AND "b"*'),
        ("NEAR(x", '"NEAR"* AND "x"*'),
        ("flüx", '"flüx"*'),
    ],
)
def test_fts_query_is_always_safe(text: str | None, query: str | None) -> None:
    assert fts_query(text) == query


def test_sizes_and_counts() -> None:
    assert format_bytes(None) == "—"
    assert format_bytes(512) == "512 B"
    assert format_bytes(1536) == "1.5 KiB"
    assert format_bytes(6_938_040_682) == "6.5 GiB"
    assert format_count(None) == "—"
    assert format_count(999) == "999"
    assert format_count(859_520_964) == "860M"
    assert format_count(11_901_408_320) == "11.9B"


def test_search_filter_binds_every_word_to_each_index() -> None:
    assert search_filter("  ") is None
    where, params = search_filter("dream%_ sha") or ("", [])
    assert where.count("MATCH ?") == 4 and where.count("LIKE ?") == 2
    assert params == ['"dream"*', "%dream%", '"dream"*', '"sha"*', "%sha%", '"sha"*']

"""Reading workflows (API, UI, PNG tEXt/iTXt, WebP EXIF) and finding the models they name."""

from __future__ import annotations

import json

import pytest

from comfy_tui.core.node_classes import missing_classes, parse_node_map, registered_classes
from comfy_tui.core.workflow import ModelRef, find_models, read_workflow
from comfy_tui.errors import ValidationError
from comfy_tui.services.library.folder_types import ALIASES
from comfy_tui.services.library.needs import match_needs
from comfy_tui.store.models_index import ModelRecord
from tests.fakes.workflow_files import api_flow, flac_with, png_with, ui_flow, webp_with

SHA = "a" * 64


def names(refs: list[ModelRef]) -> list[tuple[str | None, str]]:
    return [(r.folder, r.name) for r in refs]


def test_api_format_loaders_embeddings_gguf_and_custom_nodes() -> None:
    refs = find_models(read_workflow(json.dumps(api_flow()).encode()), ALIASES)
    assert names(refs) == [
        ("checkpoints", "sd15.safetensors"),
        ("diffusion_models", "flux1-dev-Q4_K_S.gguf"),
        ("embeddings", "EasyNegative"),
        ("embeddings", "good.pt"),
        ("loras", "styles/ink.safetensors"),  # Windows separators normalised
        ("vae", "ae.safetensors"),
        (None, "custom/thing.pth"),  # a custom node's file: folder unknown
    ]
    assert refs[0].node == "4 CheckpointLoaderSimple"


def test_ui_format_widgets_and_the_models_list() -> None:
    listed = [
        {"name": "t5xxl_fp8.safetensors", "url": "https://hf.example/t5.safetensors",
         "directory": "clip", "hash": SHA.upper(), "hash_type": "SHA256"},
        {"name": "extra.safetensors", "url": "javascript:alert(1)", "directory": "loras"},
    ]  # fmt: skip
    refs = find_models(read_workflow(json.dumps(ui_flow(listed)).encode()), ALIASES)
    assert names(refs) == [
        ("checkpoints", "sd15.safetensors"),
        ("loras", "extra.safetensors"),
        ("text_encoders", "clip_l.safetensors"),
        ("text_encoders", "t5xxl_fp8.safetensors"),
        ("upscale_models", "4x-UltraSharp.pth"),
    ]
    t5 = refs[3]
    assert t5.url == "https://hf.example/t5.safetensors" and t5.sha256 == SHA
    assert refs[1].url is None  # only http(s) links count


@pytest.mark.parametrize("itxt", [False, True])
def test_png_text_chunks(itxt: bool) -> None:
    flow = read_workflow(png_with({"prompt": api_flow(), "workflow": ui_flow()}, itxt=itxt))
    assert flow.api is not None and flow.ui is not None
    assert "UpscaleModelLoader" in flow.node_classes() and "VAELoader" in flow.node_classes()


def test_flac_vorbis_comments() -> None:
    flow = read_workflow(flac_with({"prompt": api_flow(), "workflow": ui_flow()}))
    assert flow.api is not None and flow.ui is not None
    assert ("upscale_models", "4x-UltraSharp.pth") in names(find_models(flow))


def test_webp_exif() -> None:
    flow = read_workflow(webp_with({"prompt": api_flow()}))
    assert ("vae", "ae.safetensors") in names(find_models(flow))


@pytest.mark.parametrize(
    "data", [b"not json", b"[1, 2]", json.dumps({"a": 1}).encode(), png_with({"other": {}})]
)
def test_no_workflow_is_a_clear_error(data: bytes) -> None:
    with pytest.raises(ValidationError):
        find_models(read_workflow(data, "x.png"))


def record(relpath: str, sha256: str | None = None) -> ModelRecord:
    folder = relpath.split("/", 1)[0]
    folder = ALIASES.get(folder, folder)
    return ModelRecord(root="/lib", relpath=relpath, folder=folder, name=relpath.rsplit("/", 1)[-1],
                       size=1, mtime_ns=0, format="safetensors", status="ok", added_at=0.0,
                       sha256=sha256)  # fmt: skip


def test_matching_by_folder_path_stem_hash_and_name() -> None:
    refs = [
        ModelRef("sdxl/base.safetensors", "checkpoints", "1"),
        ModelRef("t5.safetensors", "text_encoders", "2"),
        ModelRef("EasyNegative", "embeddings", "3"),
        ModelRef("renamed.safetensors", "loras", "4", sha256=SHA),
        ModelRef("custom/thing.pth", None, "5"),
        ModelRef("gone.safetensors", "vae", "6", url="https://x.example/gone.safetensors"),
        ModelRef("nowhere.safetensors", "vae", "7"),
        ModelRef("base.safetensors", "checkpoints", "8"),  # not in the sub-folder asked for
    ]
    records = [
        record("checkpoints/sdxl/base.safetensors"),
        record("clip/t5.safetensors"),  # legacy folder name
        record("embeddings/EasyNegative.safetensors"),
        record("loras/original.safetensors", SHA),
        record("other/thing.pth"),
    ]
    got = [(n.status, n.where) for n in match_needs(refs, records)]
    assert got == [
        ("present", "checkpoints/sdxl/base.safetensors"),
        ("present", "clip/t5.safetensors"),
        ("present", "embeddings/EasyNegative.safetensors"),
        ("present", "loras/original.safetensors"),
        ("present", "other/thing.pth"),
        ("download", None),
        ("missing", None),
        ("missing", None),
    ]


def test_registered_classes_and_the_node_map() -> None:
    source = (
        "NODE_CLASS_MAPPINGS = {\n    \"KSampler\": KSampler,\n    'VAELoader': VAELoader,\n}\n"
        'NODE_CLASS_MAPPINGS["Extra"] = Extra\n'
        'class V3(io.ComfyNode):\n    schema = io.Schema(node_id="SchemaNode")\n'
    )
    assert registered_classes(source) == {"KSampler", "VAELoader", "Extra", "SchemaNode"}
    node_map = parse_node_map({
        "https://github.com/a/pack": [["A", "B"], {"title_aux": "Pack"}],
        "https://github.com/b/other": [["B", "C"], {}],
        "file:///evil": [["D"], {}],
        "https://github.com/c/bad": "nonsense",
    })  # fmt: skip
    assert node_map == {"A": "https://github.com/a/pack", "B": "https://github.com/a/pack",
                        "C": "https://github.com/b/other"}  # fmt: skip
    assert missing_classes(["A", "Note", "KSampler", "A"], {"KSampler"}) == ["A"]

"""Model headers: safetensors and GGUF read without loading weights; bad files are unreadable."""

from __future__ import annotations

import pickle
import struct
from pathlib import Path

import pytest

from comfy_tui.services.library.architecture import Guess, guess_gguf, guess_safetensors
from comfy_tui.services.library.headers import PICKLE_WARNING, read_header
from comfy_tui.services.library.safetensors import MAX_HEADER_BYTES
from tests.fakes import models as fm
from tests.fakes.opens import count_opens


def test_safetensors_header_gives_counts_dtypes_and_metadata(tmp_path: Path) -> None:
    tensors = {"a.weight": ("F16", (4, 8)), "b.bias": ("F32", (8,))}
    path = fm.write_safetensors(tmp_path / "m.safetensors", tensors, {"ss_network_dim": "16"})
    info = read_header(path)
    assert info.format == "safetensors" and info.status == "ok" and info.problem == ""
    assert info.tensors == 2
    assert info.parameters == 40
    assert info.dtypes == ("F16", "F32")
    assert info.metadata == {"ss_network_dim": "16"}


def test_a_header_claiming_10_gb_is_unreadable_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.safetensors"
    path.write_bytes(struct.pack("<Q", 10 * 1024**3) + b"{}")
    info = read_header(path)
    assert info.status == "unreadable"
    assert "over the 100.0 MiB limit" in info.problem
    assert MAX_HEADER_BYTES == 100 * 1024 * 1024


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"", "truncated"),
        (b"\x05\x00", "truncated"),
        (struct.pack("<Q", 500) + b'{"a": 1}', "truncated"),
        (struct.pack("<Q", 9) + b"not json!", "not JSON"),
        (struct.pack("<Q", 2) + b"[]", "not an object"),
        (struct.pack("<Q", 10) + b'{"t": "x"}', "not described by an object"),
        (struct.pack("<Q", 4) + b"\xff\xfe{}", "not JSON"),
    ],
    ids=["empty", "short-length", "short-header", "garbage", "array", "bad-tensor", "not-utf8"],
)
def test_bad_safetensors_are_unreadable_with_a_reason(
    tmp_path: Path, content: bytes, needle: str
) -> None:
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    info = read_header(path)
    assert info.status == "unreadable"
    assert needle in info.problem
    assert "\n" not in info.problem


def test_tensor_data_past_the_end_is_truncated(tmp_path: Path) -> None:
    data = fm.safetensors_bytes({"w": ("F32", (64, 64))})
    path = tmp_path / "cut.safetensors"
    path.write_bytes(data[:-100])
    info = read_header(path)
    assert info.status == "unreadable" and "truncated" in info.problem


@pytest.mark.parametrize("suffix", [".ckpt", ".pt", ".pth", ".bin", ".pkl"])
def test_pickles_are_marked_and_never_opened(tmp_path: Path, suffix: str) -> None:
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (marker.touch, ())  # type: ignore[return-value]

    path = tmp_path / f"model{suffix}"
    path.write_bytes(pickle.dumps(Evil()))
    with count_opens() as opened:
        info = read_header(path)
    assert info.format == "pickle" and info.status == "pickle"
    assert info.problem == PICKLE_WARNING
    assert str(path) not in opened
    assert not marker.exists()


def test_other_files_are_not_opened(tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(b"\x00" * 10)
    with count_opens() as opened:
        info = read_header(path)
    assert (info.format, info.status) == ("other", "ok")
    assert opened == []


def test_gguf_header(tmp_path: Path) -> None:
    path = fm.write_gguf(
        tmp_path / "flux.gguf",
        "flux",
        {"double_blocks.0.img_attn.qkv.weight": (8, 4), "img_in.weight": (3,)},
        extra={"general.name": "flux1-dev"},
        tokens=1000,
    )
    info = read_header(path)
    assert info.status == "ok", info.problem
    assert info.format == "gguf"
    assert info.tensors == 2 and info.parameters == 35
    assert info.dtypes == ("Q8_0",)
    assert info.metadata["general.architecture"] == "flux"
    assert info.metadata["general.name"] == "flux1-dev"
    assert not any(k.startswith("tokenizer.") for k in info.metadata)
    assert info.guess == Guess("diffusion model", "Flux")


@pytest.mark.parametrize(
    ("mangle", "needle"),
    [
        (lambda b: b"GGUX" + b[4:], "bad magic"),
        (lambda b: b[:40], "truncated"),
        (lambda b: b[:4] + struct.pack("<I", 1) + b[8:], "version 1"),
        (lambda b: b[:24] + struct.pack("<Q", 2**40) + b[32:], "not plausible"),
    ],
    ids=["magic", "truncated", "version", "huge-string"],
)
def test_bad_gguf_is_unreadable(tmp_path: Path, mangle: object, needle: str) -> None:
    good = fm.write_gguf(tmp_path / "x.gguf", "llama", {"w": (2, 2)}).read_bytes()
    path = tmp_path / "bad.gguf"
    path.write_bytes(mangle(good))  # type: ignore[operator]
    info = read_header(path)
    assert info.status == "unreadable"
    assert needle in info.problem


NEW_FAMILIES = {
    "model.diffusion_model.adaln_single.emb.timestep_embedder.linear_1.bias": "LTX-Video",
    "cond_seq_linear.weight": "AuraFlow",
    "mlp_t5.0.weight": "Hunyuan-DiT",
    "t5_yproj.weight": "Mochi",
    "cap_embedder.1.weight": "Lumina 2",
    "double_stream_blocks.0.block.attn1.to_q.weight": "HiDream",
    "model.diffusion_model.txt_norm.weight": "Qwen-Image",
    "blocks.block0.blocks.0.block.attn.to_q.0.weight": "Cosmos",
    "genre_embedder.weight": "ACE-Step",
    "t_block.1.weight": "PixArt",
    "clf.1.weight": "Stable Cascade",
}
UNET_SD2 = {
    "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": ("F16", (320, 1024)),
    "middle_block.0.in_layers.0.weight": ("F16", (2, 2)),
}


@pytest.mark.parametrize(
    ("tensors", "metadata", "expected", "folder"),
    [
        (fm.sd15_checkpoint(), {}, Guess("checkpoint", "SD1.5"), "checkpoints"),
        (fm.sdxl_checkpoint(), {}, Guess("checkpoint", "SDXL"), "checkpoints"),
        (fm.flux_diffusion_model(), {}, Guess("diffusion model", "Flux"), "diffusion_models"),
        (fm.sdxl_lora(), {}, Guess("lora", "SDXL"), "loras"),
        (fm.sd15_lora(), {}, Guess("lora", "SD1.5"), "loras"),
        (fm.flux_lora(), {}, Guess("lora", "Flux"), "loras"),
        (fm.sd15_lora(), {"ss_base_model_version": "sdxl_base_v1-0"}, Guess("lora", "SDXL"), None),
        (
            fm.keys(["x.weight"]),
            {"modelspec.architecture": "flux-1-dev/lora"},
            Guess("lora", "Flux"),
            "loras",
        ),
        (fm.sd_vae(), {}, Guess("vae", "SD"), "vae"),
        (fm.t5_xxl(), {}, Guess("text encoder", "T5-XXL"), "text_encoders"),
        (fm.clip_l(), {}, Guess("text encoder", "CLIP-L"), "text_encoders"),
        (fm.keys(["emb_params"], shape=(2, 768)), {}, Guess("embedding", "SD1.5"), "embeddings"),
        (
            fm.keys(["conv_first.weight", "RRDB_trunk.0.rdb1.conv1.weight"]),
            {},
            Guess("upscaler", "ESRGAN"),
            "upscale_models",
        ),
        (
            fm.keys(["control_model.input_hint_block.0.weight"]),
            {},
            Guess("controlnet", "SD1.5"),
            "controlnet",
        ),
        (
            fm.keys(["vision_model.encoder.layers.0.mlp.fc1.weight"]),
            {},
            Guess("clip vision", "CLIP"),
            "clip_vision",
        ),
        (
            fm.keys(["patch_embedding.weight", "blocks.0.self_attn.q", "blocks.0.cross_attn.k"]),
            {},
            Guess("diffusion model", "Wan"),
            "diffusion_models",
        ),
        (fm.keys(["mystery.tensor"]), {}, Guess(), None),
        *[
            (fm.keys([key, "final_layer.linear.weight"]), {}, Guess("diffusion model", base),
             "diffusion_models")
            for key, base in NEW_FAMILIES.items()
        ],
        (UNET_SD2, {}, Guess("diffusion model", "SD2"), "diffusion_models"),
        ({**UNET_SD2, "control_model.zero_convs.0.0.weight": ("F16", (2, 2))}, {},
         Guess("controlnet", "SD2"), "controlnet"),
        (fm.keys(["model.layers.0.self_attn.q_proj.weight"]) | {
            "model.embed_tokens.weight": ("BF16", (152064, 8))}, {},
         Guess("text encoder", "Qwen2.5-VL"), "text_encoders"),
        (fm.keys(["model.layers.0.mlp.up_proj.weight"]) | {
            "model.embed_tokens.weight": ("BF16", (256000, 8))}, {},
         Guess("text encoder", "Gemma 2"), "text_encoders"),
        (fm.keys(["transformer.transformer_blocks.0.img_mod.1.lora_A.weight"]), {},
         Guess("lora", "Qwen-Image"), "loras"),
        (fm.keys(["model.diffusion_model.last_block.1.weight", "unknown.x"]), {}, Guess(), None),
    ],
    ids=[
        "sd15", "sdxl", "flux", "sdxl-lora", "sd15-lora", "flux-lora", "lora-by-metadata",
        "modelspec", "vae", "t5", "clip-l", "embedding", "esrgan", "controlnet", "clip-vision",
        "wan", "unknown", *NEW_FAMILIES.values(), "sd2-unet", "sd2-controlnet",
        "qwen-te", "gemma-te", "qwen-lora", "no-substring-match",
    ],
)  # fmt: skip
def test_architecture_guess(
    tensors: fm.Tensors, metadata: dict[str, str], expected: Guess, folder: str | None
) -> None:
    shapes = {name: shape for name, (_, shape) in tensors.items()}
    guess = guess_safetensors(shapes, metadata)
    assert guess == expected
    if folder is not None or expected == Guess():
        assert guess.folder == folder


def test_gguf_guesses() -> None:
    assert guess_gguf("sdxl") == Guess("diffusion model", "SDXL")
    assert guess_gguf("t5encoder").folder == "text_encoders"
    assert guess_gguf("mamba") == Guess("", "mamba")
    assert Guess("lora", "SDXL").label == "SDXL lora"

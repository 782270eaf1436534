"""Guess what a model file is (a LoRA, a VAE, a checkpoint...) and for which base (SDXL, Flux...).

Only tensor names, shapes and the header's metadata are used. The guess is a hint for the
user and for the import folder, never a reason to refuse a file: an unknown file is `Guess()`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["KIND_FOLDERS", "Guess", "guess_gguf", "guess_safetensors"]


@dataclass(frozen=True)
class Guess:
    kind: str = ""  # "checkpoint", "lora", "vae", "text encoder", ...
    architecture: str = ""  # "SDXL", "Flux", "T5-XXL", ...

    @property
    def folder(self) -> str | None:
        return KIND_FOLDERS.get(self.kind)

    @property
    def label(self) -> str:
        return " ".join(p for p in (self.architecture, self.kind) if p)


KIND_FOLDERS: dict[str, str] = {
    "checkpoint": "checkpoints",
    "lora": "loras",
    "vae": "vae",
    "text encoder": "text_encoders",
    "diffusion model": "diffusion_models",
    "controlnet": "controlnet",
    "upscaler": "upscale_models",
    "embedding": "embeddings",
    "clip vision": "clip_vision",
}
"""The ComfyUI folder each kind belongs in."""

# modelspec.architecture prefixes (Stability's ModelSpec) and kohya's ss_base_model_version.
_SPEC_BASES = (
    ("stable-diffusion-xl", "SDXL"),
    ("stable-diffusion-v1", "SD1.5"),
    ("stable-diffusion-v2", "SD2"),
    ("stable-diffusion-v3", "SD3"),
    ("stable-diffusion-3", "SD3"),
    ("stable-cascade", "Stable Cascade"),
    ("flux", "Flux"),
    ("chroma", "Chroma"),
    ("wan", "Wan"),
    ("hunyuan-video", "HunyuanVideo"),
    ("ltx", "LTX-Video"),
    ("auraflow", "AuraFlow"),
    ("hidream", "HiDream"),
    ("qwen-image", "Qwen-Image"),
    ("lumina", "Lumina"),
    ("sdxl", "SDXL"),
    ("sd_v1", "SD1.5"),
    ("sd_v2", "SD2"),
    ("sd3", "SD3"),
)
_SPEC_KINDS = {
    "lora": "lora",
    "lyco": "lora",
    "textual-inversion": "embedding",
    "vae": "vae",
    "controlnet": "controlnet",
}
_LORA_MARKERS = ("lora_up", "lora_down", "lora_A.", "lora_B.", ".lora.", "hada_w1", "lokr_w1")
_LAYER = re.compile(r"text_model\.encoder\.layers\.(\d+)\.")
_T5_BLOCK = re.compile(r"encoder\.block\.(\d+)\.")


def _spec_base(value: str) -> str:
    value = value.lower()
    for prefix, base in _SPEC_BASES:
        if value.startswith(prefix):
            return base
    return ""


def _strip(key: str) -> str:
    for prefix in ("model.diffusion_model.", "diffusion_model.", "transformer."):
        if key.startswith(prefix):
            return key[len(prefix) :]
    return key


def _any(keys: list[str], *needles: str) -> bool:
    return any(n in k for k in keys for n in needles)


def _starts(keys: list[str], *prefixes: str) -> bool:
    return any(k.startswith(prefixes) for k in keys)


_DIT_MARKERS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("adaln_single.emb.timestep_embedder",), "LTX-Video"),
    (("cond_seq_linear", "double_layers.0.attn.w1q"), "AuraFlow"),
    (("mlp_t5.",), "Hunyuan-DiT"),
    (("t5_yproj.",), "Mochi"),
    (("cap_embedder.",), "Lumina 2"),
    (("double_stream_blocks.", "caption_projection.0.linear"), "HiDream"),
    (("txt_norm.",), "Qwen-Image"),
    (("blocks.block0.blocks.0.block.attn",), "Cosmos"),
    (("genre_embedder.",), "ACE-Step"),
    (("t_block.1.", "y_embedder.y_proj"), "PixArt"),
    (("clf.1.",), "Stable Cascade"),
)
"""Key prefixes only one family has (after the model prefix is stripped), checked in this
order; the names follow ComfyUI's own model detection."""

_CONTEXT_BASES = {768: "SD1.5", 1024: "SD2", 2048: "SDXL"}
"""A UNet's cross-attention width (its text encoder's) → the base."""


def _unet_context(shapes: Mapping[str, tuple[int, ...]]) -> str:
    """SD1.5, SD2 or SDXL from the width of a cross-attention key projection."""
    for key, shape in shapes.items():
        if key.endswith("attn2.to_k.weight") and len(shape) == 2:
            return _CONTEXT_BASES.get(shape[1], "")
    return ""


def _dit_base(keys: list[str], shapes: Mapping[str, tuple[int, ...]] | None = None) -> str:
    """The base of a diffusion model (or a LoRA for it) from its block names (and, for a
    UNet, the width of its cross attention when the shapes are known)."""
    stripped = [_strip(k) for k in keys]
    if _any(stripped, "txt_in.individual_token_refiner"):
        return "HunyuanVideo"
    if _any(stripped, "distilled_guidance_layer"):
        return "Chroma"
    for prefixes, base in _DIT_MARKERS:
        if _starts(stripped, *prefixes):
            return base
    if _starts(stripped, "transformer_blocks.") and _any(stripped, ".img_mod."):
        return "Qwen-Image"
    if _any(stripped, "double_blocks", "single_blocks", "single_transformer_blocks"):
        return "Flux"
    if _any(stripped, "joint_blocks"):
        return "SD3"
    if _starts(stripped, "patch_embedding.") or _any(stripped, "cross_attn.k_img"):
        return "Wan"
    if _any(stripped, "blocks.0.self_attn", "blocks_0_self_attn") and _any(stripped, "cross_attn"):
        return "Wan"
    if _any(stripped, "label_emb", "lora_te2_", "te2.") or _any(
        stripped, "input_blocks.4.1.transformer_blocks.1.", "input_blocks_4_1_transformer_blocks_1_"
    ):
        return "SDXL"
    if _any(stripped, "input_blocks", "down_blocks", "lora_unet_", "middle_block"):
        return (_unet_context(shapes) if shapes else "") or "SD1.5"
    return ""


def _lora(keys: list[str], metadata: Mapping[str, str]) -> Guess:
    base = _spec_base(metadata.get("ss_base_model_version", "")) or _dit_base(keys)
    return Guess("lora", base)


def _vae_base(shapes: Mapping[str, tuple[int, ...]]) -> str:
    for key in ("decoder.conv_in.weight", "first_stage_model.decoder.conv_in.weight"):
        shape = shapes.get(key)
        if shape and len(shape) == 5:
            return "Wan"
        if shape and len(shape) >= 2:
            return {4: "SD", 16: "Flux/SD3"}.get(shape[1], "")
    return ""


_LLM_VOCABS = {
    151936: "Qwen",
    152064: "Qwen2.5-VL",
    128256: "Llama 3",
    256000: "Gemma 2",
    262144: "Gemma 3",
    262208: "Gemma 3",
}
"""An LLM text encoder's vocabulary size (rows of its token embedding) → its family."""


def _text_encoder(keys: list[str], shapes: Mapping[str, tuple[int, ...]]) -> str:
    layers = {int(m.group(1)) for k in keys if (m := _LAYER.search(k))}
    if layers:
        return {12: "CLIP-L", 24: "CLIP-H", 32: "CLIP-G"}.get(max(layers) + 1, "CLIP")
    if _any(keys, "SelfAttention.q.weight"):
        vocab = shapes.get("shared.weight", (0,))[0]
        if vocab > 200_000:
            return "umT5-XXL"
        blocks = {int(m.group(1)) for k in keys if (m := _T5_BLOCK.search(k))}
        return "T5-XXL" if blocks and max(blocks) + 1 >= 24 else "T5"
    for key in ("model.embed_tokens.weight", "embed_tokens.weight"):
        embedding = shapes.get(key)
        if embedding:
            return _LLM_VOCABS.get(embedding[0], "LLM")
    return "LLM"


def _checkpoint_base(keys: list[str]) -> str:
    if _any(keys, "conditioner.embedders.1."):
        return "SDXL"
    if _any(keys, "conditioner.embedders.0.model."):
        return "SDXL Refiner"
    if _starts(keys, "cond_stage_model.model."):
        return "SD2"
    if _starts(keys, "cond_stage_model.transformer."):
        return "SD1.5"
    return _dit_base(keys)


def guess_safetensors(shapes: Mapping[str, tuple[int, ...]], metadata: Mapping[str, str]) -> Guess:
    """Guess from tensor names → shapes and the `__metadata__` strings."""
    keys = list(shapes)
    spec = metadata.get("modelspec.architecture", "")
    if spec:
        base, _, suffix = spec.partition("/")
        kind = _SPEC_KINDS.get(suffix.lower(), "")
        if kind:
            return Guess(kind, _spec_base(base))
    if _any(keys, *_LORA_MARKERS) or (keys and all(k.startswith("lora_") for k in keys)):
        return _lora(keys, metadata)
    if set(keys) <= {"emb_params", "clip_l", "clip_g", "string_to_param.*"} and keys:
        if "clip_g" in keys:
            return Guess("embedding", "SDXL")
        width = shapes.get("emb_params", (0, 0))[-1]
        return Guess("embedding", {768: "SD1.5", 1024: "SD2"}.get(width, ""))
    if _any(keys, "control_model.", "controlnet_cond_embedding", "input_hint_block", "zero_convs"):
        return Guess("controlnet", _dit_base(keys, shapes) or "SD1.5")
    if _starts(keys, "controlnet_blocks.", "controlnet_single_blocks."):
        return Guess("controlnet", _dit_base(keys))
    if _starts(keys, "model.diffusion_model.") and _starts(
        keys, "first_stage_model.", "cond_stage_model.", "conditioner.", "text_encoders."
    ):
        return Guess("checkpoint", _checkpoint_base(keys))
    if _starts(keys, "conv_first.", "RRDB_trunk.") or (
        _starts(keys, "model.0.") and _any(keys, ".sub.")
    ):
        return Guess("upscaler", "ESRGAN")
    if _starts(keys, "encoder.", "decoder.") and _any(keys, "decoder.conv_in", "decoder.up"):
        return Guess("vae", _vae_base(shapes))
    if _starts(keys, "vision_model.") and not _starts(keys, "text_model."):
        return Guess("clip vision", "CLIP")
    if _starts(keys, "text_model.", "encoder.block.", "shared.", "model.layers."):
        return Guess("text encoder", _text_encoder(keys, shapes))
    base = _dit_base(keys, shapes)
    if base:
        return Guess("diffusion model", base)
    spec_base = _spec_base(spec)
    return Guess("checkpoint" if spec_base else "", spec_base)


_GGUF_DIFFUSION = {
    "flux": "Flux",
    "sd1": "SD1.5",
    "sdxl": "SDXL",
    "sd3": "SD3",
    "wan": "Wan",
    "hyvid": "HunyuanVideo",
    "ltxv": "LTX-Video",
    "aura": "AuraFlow",
    "hidream": "HiDream",
    "cosmos": "Cosmos",
    "lumina2": "Lumina 2",
    "qwen_image": "Qwen-Image",
    "chroma": "Chroma",
}
_GGUF_TEXT = {
    "t5": "T5",
    "t5encoder": "T5",
    "umt5": "umT5",
    "llama": "Llama",
    "qwen2": "Qwen2",
    "qwen2vl": "Qwen2-VL",
    "qwen3": "Qwen3",
    "gemma2": "Gemma 2",
    "gemma3": "Gemma 3",
}


def guess_gguf(architecture: str) -> Guess:
    """Guess from GGUF's `general.architecture` (ComfyUI-GGUF's names for image models)."""
    arch = architecture.lower()
    if arch in _GGUF_DIFFUSION:
        return Guess("diffusion model", _GGUF_DIFFUSION[arch])
    if arch in _GGUF_TEXT:
        return Guess("text encoder", _GGUF_TEXT[arch])
    return Guess("", architecture)

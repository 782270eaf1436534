"""Tiny but real model files for the library tests: safetensors and GGUF headers plus a few bytes.

Key sets imitate the real layouts (SD1.5, SDXL, Flux, LoRAs, VAE, text encoders) closely enough
for the architecture guess; every tensor is small so a file is a few hundred bytes.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Mapping
from pathlib import Path

DTYPE_BYTES = {"F16": 2, "BF16": 2, "F32": 4, "F8_E4M3": 1, "I64": 8}

Tensors = Mapping[str, tuple[str, tuple[int, ...]]]


def safetensors_bytes(tensors: Tensors, metadata: Mapping[str, str] | None = None) -> bytes:
    header: dict[str, object] = {}
    if metadata is not None:
        header["__metadata__"] = dict(metadata)
    offset = 0
    for name, (dtype, shape) in tensors.items():
        n = DTYPE_BYTES[dtype]
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    return struct.pack("<Q", len(raw)) + raw + bytes(offset)


def write_safetensors(
    path: Path, tensors: Tensors, metadata: Mapping[str, str] | None = None, *, salt: bytes = b""
) -> Path:
    """Write a safetensors file; `salt` appended to the data makes contents differ."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = safetensors_bytes(tensors, metadata)
    if salt:
        # put the salt inside the last tensor's bytes so the file stays valid
        data = data[: -len(salt)] + salt if len(data) > len(salt) else data
    path.write_bytes(data)
    return path


def keys(names: Iterable[str], dtype: str = "F16", shape: tuple[int, ...] = (2, 2)) -> Tensors:
    return {n: (dtype, shape) for n in names}


def sd15_checkpoint() -> Tensors:
    return keys(
        [
            "model.diffusion_model.input_blocks.0.0.weight",
            "model.diffusion_model.input_blocks.1.1.transformer_blocks.0.attn1.to_k.weight",
            "model.diffusion_model.middle_block.0.in_layers.0.weight",
            "first_stage_model.decoder.conv_in.weight",
            "cond_stage_model.transformer.text_model.encoder.layers.0.mlp.fc1.weight",
        ]
    )


def sdxl_checkpoint() -> Tensors:
    return keys(
        [
            "model.diffusion_model.input_blocks.0.0.weight",
            "model.diffusion_model.label_emb.0.0.weight",
            "first_stage_model.decoder.conv_in.weight",
            "conditioner.embedders.0.transformer.text_model.embeddings.position_ids",
            "conditioner.embedders.1.model.transformer.resblocks.0.attn.in_proj_weight",
        ]
    )


def flux_diffusion_model() -> Tensors:
    return keys(
        [
            "double_blocks.0.img_attn.qkv.weight",
            "double_blocks.0.txt_attn.qkv.weight",
            "single_blocks.0.linear1.weight",
            "guidance_in.in_layer.weight",
            "img_in.weight",
        ],
        dtype="BF16",
    )


def sdxl_lora() -> Tensors:
    return keys(
        [
            "lora_unet_input_blocks_4_1_transformer_blocks_1_attn1_to_k.lora_down.weight",
            "lora_unet_input_blocks_4_1_transformer_blocks_1_attn1_to_k.lora_up.weight",
            "lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_down.weight",
        ]
    )


def flux_lora() -> Tensors:
    return keys(
        [
            "transformer.single_transformer_blocks.0.attn.to_k.lora_A.weight",
            "transformer.single_transformer_blocks.0.attn.to_k.lora_B.weight",
        ]
    )


def sd15_lora() -> Tensors:
    return keys(
        [
            "lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight",
            "lora_unet_down_blocks_0_attentions_0_proj_in.lora_up.weight",
            "lora_te_text_model_encoder_layers_0_mlp_fc1.lora_down.weight",
        ]
    )


def sd_vae() -> Tensors:
    tensors = dict(keys(["encoder.conv_in.weight", "decoder.up.0.block.0.conv1.weight"]))
    tensors["decoder.conv_in.weight"] = ("F16", (8, 4, 1, 1))
    return tensors


def t5_xxl() -> Tensors:
    names = [f"encoder.block.{i}.layer.0.SelfAttention.q.weight" for i in range(24)]
    return {**keys(names), "shared.weight": ("F16", (4, 2))}


def clip_l() -> Tensors:
    names = [f"text_model.encoder.layers.{i}.mlp.fc1.weight" for i in range(12)]
    return keys([*names, "text_model.embeddings.position_embedding.weight"])


def write_gguf(
    path: Path,
    architecture: str,
    tensors: Mapping[str, tuple[int, ...]],
    *,
    extra: Mapping[str, str] | None = None,
    tokens: int = 0,
) -> Path:
    """A GGUF v3 file: string metadata, an optional token array, tensor infos, no real data."""

    def string(text: str) -> bytes:
        raw = text.encode()
        return struct.pack("<Q", len(raw)) + raw

    kv = {"general.architecture": architecture, **(extra or {})}
    body = b""
    for key, value in kv.items():
        body += string(key) + struct.pack("<I", 8) + string(value)
    n_kv = len(kv)
    if tokens:
        body += string("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, tokens)
        body += b"".join(string(f"t{i}") for i in range(tokens))
        n_kv += 1
    infos = b""
    for name, dims in tensors.items():
        infos += string(name) + struct.pack("<I", len(dims))
        infos += struct.pack(f"<{len(dims)}Q", *dims) + struct.pack("<IQ", 8, 0)  # Q8_0
    header = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), n_kv)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header + body + infos + bytes(64))
    return path

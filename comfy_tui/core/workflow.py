"""What model files a ComfyUI workflow refers to, read from the workflow itself.

Accepted: API-format JSON (``{"id": {"class_type", "inputs"}}``), UI-format JSON (``nodes``
with ``widgets_values``), and files that carry one: PNG ``tEXt``/``iTXt``/``zTXt`` chunks
named ``prompt`` or ``workflow`` (what ComfyUI's SaveImage writes), WebP EXIF fields
``prompt:…``/``workflow:…``, FLAC Vorbis comments ``prompt=…``/``workflow=…`` (SaveAudio).
References come from the loader nodes of core ComfyUI (and the GGUF loaders), ``embedding:``
names in prompt text, the ``models`` lists newer workflows carry (name, url, directory, hash),
and, for any other node, a widget value that is a model file name (its folder then unknown).
Pure: bytes in, `ModelRef`s out.
"""

from __future__ import annotations

import json
import re
import struct
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from comfy_tui.errors import ValidationError

MODEL_SUFFIXES = (".safetensors", ".sft", ".ckpt", ".pt", ".pth", ".bin", ".gguf", ".onnx")

LOADERS: dict[str, tuple[tuple[str, str], ...]] = {
    "CheckpointLoaderSimple": (("ckpt_name", "checkpoints"),),
    "CheckpointLoader": (("config_name", "configs"), ("ckpt_name", "checkpoints")),
    "ImageOnlyCheckpointLoader": (("ckpt_name", "checkpoints"),),
    "unCLIPCheckpointLoader": (("ckpt_name", "checkpoints"),),
    "LoraLoader": (("lora_name", "loras"),),
    "LoraLoaderModelOnly": (("lora_name", "loras"),),
    "VAELoader": (("vae_name", "vae"),),
    "CLIPLoader": (("clip_name", "text_encoders"),),
    "DualCLIPLoader": (("clip_name1", "text_encoders"), ("clip_name2", "text_encoders")),
    "TripleCLIPLoader": tuple((f"clip_name{n}", "text_encoders") for n in (1, 2, 3)),
    "QuadrupleCLIPLoader": tuple((f"clip_name{n}", "text_encoders") for n in (1, 2, 3, 4)),
    "UNETLoader": (("unet_name", "diffusion_models"),),
    "ControlNetLoader": (("control_net_name", "controlnet"),),
    "DiffControlNetLoader": (("control_net_name", "controlnet"),),
    "UpscaleModelLoader": (("model_name", "upscale_models"),),
    "CLIPVisionLoader": (("clip_name", "clip_vision"),),
    "StyleModelLoader": (("style_model_name", "style_models"),),
    "GLIGENLoader": (("gligen_name", "gligen"),),
    "HypernetworkLoader": (("hypernetwork_name", "hypernetworks"),),
    "PhotoMakerLoader": (("photomaker_model_name", "photomaker"),),
    "UnetLoaderGGUF": (("unet_name", "diffusion_models"),),
    "UnetLoaderGGUFAdvanced": (("unet_name", "diffusion_models"),),
    "CLIPLoaderGGUF": (("clip_name", "text_encoders"),),
    "DualCLIPLoaderGGUF": (("clip_name1", "text_encoders"), ("clip_name2", "text_encoders")),
    "TripleCLIPLoaderGGUF": tuple((f"clip_name{n}", "text_encoders") for n in (1, 2, 3)),
}
"""Loader node class → its model inputs, in widget order (they lead the node's widgets)."""

_EMBEDDING = re.compile(r"embedding:([^\s,()\[\]{}<>:|]+)", re.IGNORECASE)
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_KEYS = ("prompt", "workflow")


@dataclass(frozen=True)
class ModelRef:
    """One model a workflow needs. `folder` is None when only the file name is known."""

    name: str  # as the workflow writes it, sub-folders included ("sdxl/x.safetensors")
    folder: str | None
    node: str  # "3 CheckpointLoaderSimple", or "models list"
    url: str | None = None
    sha256: str | None = None

    @property
    def key(self) -> tuple[str | None, str]:
        return self.folder, self.name


@dataclass(frozen=True)
class Workflow:
    """The graph(s) found in a file: API format, UI format, or both (a PNG often has both)."""

    api: Mapping[str, Any] | None
    ui: Mapping[str, Any] | None

    def node_classes(self) -> set[str]:
        classes = {str(n.get("class_type")) for n in _api_nodes(self.api) if n.get("class_type")}
        classes |= {str(n.get("type")) for n in _ui_nodes(self.ui) if n.get("type")}
        return classes


# --- reading files ----------------------------------------------------------------------------
def read_workflow(data: bytes, what: str = "the file") -> Workflow:
    """The workflow in `data` (JSON, PNG, WebP or FLAC); ValidationError when there is none."""
    texts: dict[str, str]
    if data.startswith(_PNG_MAGIC):
        texts = png_texts(data)
    elif data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        texts = webp_texts(data)
    elif data.startswith(b"fLaC"):
        texts = flac_texts(data)
    else:
        try:
            doc = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            raise ValidationError(f"{what} is neither a workflow JSON nor a PNG/WebP") from None
        texts = {"workflow" if _is_ui(doc) else "prompt": json.dumps(doc)}
    api = _json_object(texts.get("prompt"))
    ui = _json_object(texts.get("workflow"))
    if api is not None and _is_ui(api):
        api, ui = None, ui or api
    if ui is not None and not _is_ui(ui):
        api, ui = api or ui, None
    if api is not None and not _is_api(api):
        api = None
    if api is None and ui is None:
        raise ValidationError(f"{what} holds no ComfyUI workflow")
    return Workflow(api, ui)


def _json_object(text: str | None) -> dict[str, Any] | None:
    if not text:
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def _is_api(doc: Mapping[str, Any]) -> bool:
    return any(isinstance(n, dict) and "class_type" in n for n in doc.values())


def _is_ui(doc: object) -> bool:
    return isinstance(doc, dict) and isinstance(doc.get("nodes"), list)


def png_texts(data: bytes) -> dict[str, str]:
    """The ``prompt``/``workflow`` text chunks of a PNG (tEXt, zTXt, iTXt)."""
    out: dict[str, str] = {}
    at = len(_PNG_MAGIC)
    while at + 8 <= len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        body = data[at + 8 : at + 8 + length]
        at += 12 + length
        if kind == b"IEND":
            break
        if kind not in (b"tEXt", b"zTXt", b"iTXt"):
            continue
        key, _, rest = body.partition(b"\0")
        name = key.decode("latin-1")
        if name not in _KEYS:
            continue
        try:
            if kind == b"tEXt":
                out[name] = rest.decode("latin-1")
            elif kind == b"zTXt":
                out[name] = zlib.decompress(rest[1:]).decode("latin-1")
            else:
                compressed, rest = rest[0], rest[2:]
                _lang, _, rest = rest.partition(b"\0")
                _translated, _, text = rest.partition(b"\0")
                raw = zlib.decompress(text) if compressed else text
                out[name] = raw.decode("utf-8")
        except (zlib.error, UnicodeDecodeError, IndexError):
            continue
    return out


def flac_texts(data: bytes) -> dict[str, str]:
    """``prompt=…`` / ``workflow=…`` Vorbis comments of a FLAC (what SaveAudio writes)."""
    out: dict[str, str] = {}
    at = 4
    while at + 4 <= len(data):
        header = data[at]
        length = int.from_bytes(data[at + 1 : at + 4], "big")
        block = data[at + 4 : at + 4 + length]
        at += 4 + length
        if header & 0x7F == 4:  # VORBIS_COMMENT, little-endian lengths
            pos = 4 + int.from_bytes(block[0:4], "little")
            count = int.from_bytes(block[pos : pos + 4], "little")
            pos += 4
            for _ in range(count):
                size = int.from_bytes(block[pos : pos + 4], "little")
                comment = block[pos + 4 : pos + 4 + size].decode("utf-8", "replace")
                pos += 4 + size
                key, _, value = comment.partition("=")
                if key.lower() in _KEYS:
                    out[key.lower()] = value
        if header & 0x80:  # the last metadata block
            break
    return out


def webp_texts(data: bytes) -> dict[str, str]:
    """``prompt:{…}`` / ``workflow:{…}`` strings ComfyUI writes into a WebP's EXIF."""
    out: dict[str, str] = {}
    decoder = json.JSONDecoder()
    for name in _KEYS:
        marker = name.encode() + b":"
        start = data.find(marker)
        while start >= 0:
            text = data[start + len(marker) :].decode("utf-8", "replace")
            try:
                doc, _end = decoder.raw_decode(text)
            except ValueError:
                start = data.find(marker, start + 1)
                continue
            out[name] = json.dumps(doc)
            break
    return out


# --- finding references -----------------------------------------------------------------------
def _api_nodes(api: Mapping[str, Any] | None) -> Iterator[Mapping[str, Any]]:
    for node in (api or {}).values():
        if isinstance(node, dict):
            yield node


def _ui_nodes(ui: Mapping[str, Any] | None) -> Iterator[Mapping[str, Any]]:
    if ui is None:
        return
    stack = [ui]
    while stack:  # sub-graphs ("definitions": {"subgraphs": [...]}) hold nodes too
        graph = stack.pop()
        for node in graph.get("nodes") or []:
            if isinstance(node, dict):
                yield node
        definitions = graph.get("definitions")
        if isinstance(definitions, dict):
            stack.extend(g for g in definitions.get("subgraphs") or [] if isinstance(g, dict))


def is_model_name(value: object) -> bool:
    return isinstance(value, str) and value.strip().lower().endswith(MODEL_SUFFIXES)


def _clean(name: str) -> str:
    return name.strip().replace("\\", "/")


def find_models(flow: Workflow, aliases: Mapping[str, str] | None = None) -> list[ModelRef]:
    """Every model reference, once per (folder, name); a known URL or hash wins. `aliases`
    maps legacy folder names to the ones used here (``clip`` → ``text_encoders``)."""
    found: dict[tuple[str | None, str], ModelRef] = {}
    aliases = aliases or {}

    def add(ref: ModelRef) -> None:
        if ref.folder is not None and ref.folder in aliases:
            ref = ModelRef(ref.name, aliases[ref.folder], ref.node, ref.url, ref.sha256)
        old = found.get(ref.key)
        if old is None or (ref.url and not old.url) or (ref.sha256 and not old.sha256):
            found[ref.key] = ModelRef(
                ref.name,
                ref.folder,
                old.node if old else ref.node,
                ref.url or (old.url if old else None),
                ref.sha256 or (old.sha256 if old else None),
            )

    for node_id, node in (flow.api or {}).items():
        if isinstance(node, dict):
            inputs = node.get("inputs") if isinstance(node.get("inputs"), dict) else {}
            for ref in _from_node(str(node_id), str(node.get("class_type", "")), inputs, None):
                add(ref)
    for node in _ui_nodes(flow.ui):
        widgets = node.get("widgets_values")
        values = widgets if isinstance(widgets, list) else []
        label = f"{node.get('id', '?')}"
        for ref in _from_node(label, str(node.get("type", "")), None, values):
            add(ref)
        properties = node.get("properties")
        if isinstance(properties, dict):
            for ref in _from_models_list(properties.get("models"), f"{label} {node.get('type')}"):
                add(ref)
    if flow.ui is not None:
        for ref in _from_models_list(flow.ui.get("models"), "models list"):
            add(ref)
    # A name also known with its folder needs no folder-less entry.
    named = {name for folder, name in found if folder is not None}
    return [
        r for k, r in sorted(found.items(), key=_order) if k[0] is not None or k[1] not in named
    ]


def _order(item: tuple[tuple[str | None, str], ModelRef]) -> tuple[str, str]:
    (folder, name), _ref = item
    return folder or "~", name


def _from_node(
    node_id: str,
    class_type: str,
    inputs: Mapping[str, Any] | None,
    widgets: list[Any] | None,
) -> Iterable[ModelRef]:
    label = f"{node_id} {class_type}".strip()
    loader = LOADERS.get(class_type)
    if loader is not None:
        for index, (input_name, folder) in enumerate(loader):
            if inputs is not None:
                value = inputs.get(input_name)
            else:
                value = widgets[index] if widgets is not None and index < len(widgets) else None
            if isinstance(value, str) and value.strip() and value.strip().lower() != "none":
                yield ModelRef(_clean(value), folder, label)
        return
    values = list(inputs.values()) if inputs is not None else list(widgets or [])
    for value in values:
        if not isinstance(value, str):
            continue
        for match in _EMBEDDING.finditer(value):
            name = match.group(1).rstrip(".")
            yield ModelRef(_clean(name), "embeddings", label)
        if is_model_name(value) and "\n" not in value:
            yield ModelRef(_clean(value), None, label)


def _from_models_list(items: object, label: str) -> Iterable[ModelRef]:
    if not isinstance(items, list):
        return
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        url = item.get("url")
        directory = item.get("directory")
        digest = item.get("hash")
        kind = str(item.get("hash_type", "sha256")).lower()
        sha = digest.lower() if isinstance(digest, str) and kind == "sha256" else None
        yield ModelRef(
            _clean(item["name"]),
            _clean(directory).strip("/") if isinstance(directory, str) and directory else None,
            label,
            url if isinstance(url, str) and url.startswith(("https://", "http://")) else None,
            sha if sha and re.fullmatch(r"[0-9a-f]{64}", sha) else None,
        )

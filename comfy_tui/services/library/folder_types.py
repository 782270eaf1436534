"""ComfyUI's model folder types (`folder_paths.py`), their legacy aliases and file extensions.

A library root is laid out like ComfyUI's `models/`: `<root>/<folder>/[sub/]file`. The folder
of a file is its first path component, with the legacy names mapped (`unet` →
`diffusion_models`, `clip` → `text_encoders`, `t2i_adapter` → `controlnet`).
"""

from __future__ import annotations

from comfy_tui.errors import ValidationError

__all__ = [
    "ALIASES",
    "FOLDERS",
    "MODEL_EXTENSIONS",
    "PICKLE_EXTENSIONS",
    "PLAIN_MODEL_SUFFIXES",
    "UNSORTED",
    "WORK_SUFFIXES",
    "canonical_folder",
    "folder_dirs",
    "folder_of",
    "is_model_file",
    "is_work_file",
    "validate_folder",
]

FOLDERS: tuple[str, ...] = (
    "checkpoints",
    "loras",
    "vae",
    "text_encoders",
    "diffusion_models",
    "clip_vision",
    "style_models",
    "embeddings",
    "diffusers",
    "vae_approx",
    "controlnet",
    "gligen",
    "upscale_models",
    "hypernetworks",
    "photomaker",
    "classifiers",
    "model_patches",
    "audio_encoders",
    "latent_upscale_models",
    "configs",
)
"""Folder types of ComfyUI's `folder_paths.py`, in its order (custom_nodes is not a model)."""

ALIASES: dict[str, str] = {
    "unet": "diffusion_models",
    "clip": "text_encoders",
    "t2i_adapter": "controlnet",
}
"""Directory names ComfyUI also reads for a folder type."""

UNSORTED = "unsorted"
"""The folder of a file that sits directly in a root: ComfyUI does not see it."""

PICKLE_EXTENSIONS = frozenset({".ckpt", ".pt", ".pt2", ".pth", ".bin", ".pkl"})
MODEL_EXTENSIONS = frozenset(
    {".safetensors", ".sft", ".gguf", ".onnx", ".yaml"} | PICKLE_EXTENSIONS
)
"""What a scan indexes: ComfyUI's extensions plus GGUF/ONNX, and YAML under configs/."""

_CONFIG_ONLY = (".yaml",)
_COMMON_FIRST = (".safetensors", ".gguf", ".ckpt", ".pth", ".pt")
_MODEL_SUFFIXES = (*_COMMON_FIRST, *sorted(MODEL_EXTENSIONS.difference(_COMMON_FIRST)))
PLAIN_MODEL_SUFFIXES = tuple(s for s in _MODEL_SUFFIXES if s not in _CONFIG_ONLY)
"""A file whose name (lowercased; not a dotfile) ends with one of these is a model file in any
folder: `is_model_file` is true with no further test (a walk's shortcut, 10,000s of calls).
The common ones first: `endswith` tries them in order."""

WORK_SUFFIXES: tuple[str, ...] = (
    ".part",  # a download in progress (downloads/partfile.py) ...
    ".part.json",  # ... its sidecar, and the sidecar's own .bak / .lock / .tmp below
    ".tmp",  # jsonfile's `.<name>.<random>.tmp`, the importer's temporary copies
    ".lock",
    ".bak",
    ".incomplete",  # huggingface_hub's partial files
)
"""Names of files still being written (or their bookkeeping): never indexed, whatever the
extension before them (`x.safetensors.part` is not a model yet)."""


def is_work_file(name: str) -> bool:
    """True for a partial download, a sidecar, a lock, a backup or a temporary file."""
    return name.startswith(".") or name.lower().endswith(WORK_SUFFIXES)


def canonical_folder(name: str) -> str:
    """The folder type a directory name stands for (aliases mapped; unknown names kept)."""
    return ALIASES.get(name, name)


def folder_dirs(folder: str) -> tuple[str, ...]:
    """Every directory name inside a root whose files ComfyUI lists as `folder`."""
    return (folder, *sorted(alias for alias, target in ALIASES.items() if target == folder))


def folder_of(relpath: str) -> str:
    """The folder type of a POSIX path inside a root."""
    first, sep, _ = relpath.partition("/")
    return canonical_folder(first) if sep else UNSORTED


def is_model_file(relpath: str) -> bool:
    """True for a file a scan indexes (YAML only under `configs/`; never a work file)."""
    # Called for every file of a walk: one C-level suffix test first. Every extension starts
    # with its dot and holds no other, so a suffix match is the last extension's match.
    # A work file's last suffix is never a model extension (a test keeps it so): no need to
    # ask is_work_file.
    lowered = relpath.lower()
    if not lowered.endswith(_MODEL_SUFFIXES):
        return False
    if relpath.startswith(".", relpath.rfind("/") + 1):  # a dotfile (or only an extension)
        return False
    if lowered.endswith(_CONFIG_ONLY):
        return folder_of(relpath) == "configs"
    return True


def validate_folder(name: str) -> str:
    """A folder named by the user: a known type or alias, or a new custom type (a safe name)."""
    from comfy_tui.validate import validate_filename  # here: a scan validates no name

    try:
        validate_filename(name)
    except ValidationError as exc:
        raise ValidationError(f"invalid folder {name!r}: {exc}") from None
    folder = canonical_folder(name)
    if folder == UNSORTED or not all(c.isalnum() or c in "_-" for c in folder):
        known = ", ".join(FOLDERS)
        raise ValidationError(f"invalid folder {name!r}: use one of {known} (or a simple name)")
    return folder

"""Which library folder a download lands in: `--folder` values checked and normalised, and a
folder guessed from a remote path.

The folder types and ComfyUI's legacy aliases are the model library's own list
(`services/library/folder_types.py`, the one list in the project); downloads add a few common
singulars (``lora`` → ``loras``) on top.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import PurePosixPath

from comfy_tui.errors import ValidationError
from comfy_tui.services.library.folder_types import ALIASES as LIBRARY_ALIASES
from comfy_tui.services.library.folder_types import FOLDERS
from comfy_tui.validate import validate_filename

KNOWN_FOLDERS: tuple[str, ...] = FOLDERS
"""The folder types a download may land in: the library's."""

ALIASES: dict[str, str] = {
    **LIBRARY_ALIASES,
    "lora": "loras",
    "checkpoint": "checkpoints",
    "embedding": "embeddings",
    "upscale": "upscale_models",
}
"""ComfyUI's legacy names (from the library) and common singulars, mapped to their folder."""


def canonical_folder(folder: str) -> str:
    """Check a `--folder` value and return it normalised: ``lora`` → ``loras``, ``unet/x`` →
    ``diffusion_models/x``. Sub-folders are allowed (``loras/sdxl``), each part a plain name."""
    text = folder.strip().strip("/") if isinstance(folder, str) else ""
    if not text:
        raise ValidationError("invalid folder: it is empty; " + _choices())
    parts = PurePosixPath(text).parts
    head = parts[0].lower()
    head = ALIASES.get(head, head)
    if head not in KNOWN_FOLDERS:
        raise ValidationError(f"unknown library folder {parts[0]!r}: {_choices()}")
    for part in parts[1:]:
        try:
            validate_filename(part)
        except ValidationError as exc:
            raise ValidationError(f"invalid folder {folder!r}: {exc}") from None
    return "/".join((head, *parts[1:]))


def guess_folder(path_parts: Iterable[str]) -> str | None:
    """The library folder named by a component of a remote path, for example
    ``split_files/vae/ae.safetensors`` → ``vae``; None when no component names one."""
    for part in reversed(list(path_parts)):
        name = part.lower()
        name = ALIASES.get(name, name)
        if name in KNOWN_FOLDERS:
            return name
    return None


def _choices() -> str:
    return "use one of " + ", ".join(KNOWN_FOLDERS)

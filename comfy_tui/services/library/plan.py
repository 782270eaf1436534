"""Plan an import before touching anything: which file goes to which library path.

Directories import recursively. The folder comes from `--folder`, else from the source's own
layout (`.../models/loras/x`, or a directory whose entries are `checkpoints/`, `loras/`...), else
from the header's architecture guess. Every target is a validated path inside the library.
A problem with a path the user named stops the whole import with one line, before a single
file is changed; inside a folder, a file that cannot be placed (its folder cannot be told,
a bad name) or read is skipped and reported, and the rest is imported.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from comfy_tui.errors import ValidationError
from comfy_tui.services.library.folder_types import (
    ALIASES,
    FOLDERS,
    MODEL_EXTENSIONS,
    canonical_folder,
    is_model_file,
    validate_folder,
)
from comfy_tui.services.library.headers import read_header
from comfy_tui.services.library.walk import walk_root
from comfy_tui.validate import safe_relpath, validate_filename

__all__ = ["ImportPlan", "PlannedFile", "Skipped", "plan_import"]


@dataclass(frozen=True)
class PlannedFile:
    source: Path
    relpath: str  # wanted path inside the library root (a suffix is added on a name clash)
    size: int


@dataclass(frozen=True)
class Skipped:
    """A file inside an imported folder that is left where it is, and why."""

    source: Path
    reason: str


@dataclass
class ImportPlan:
    files: list[PlannedFile]
    skipped: list[Skipped]


def _known(name: str) -> bool:
    return name in FOLDERS or name in ALIASES


def _inside_any(path: Path, roots: Sequence[Path]) -> Path | None:
    real = os.path.realpath(path)
    for root in roots:
        root_real = os.path.realpath(root)
        if real == root_real or real.startswith(root_real.rstrip(os.sep) + os.sep):
            return root
    return None


def _target(
    source: Path, parts: list[str], folder: str | None, from_dir: str | None
) -> tuple[str, list[str]]:
    """(folder, sub-folders) for a file at `parts` (relative path parts, last = file name)."""
    if folder:
        return folder, parts[:-1]
    if len(parts) >= 2 and _known(parts[0]):
        return canonical_folder(parts[0]), parts[1:-1]
    if from_dir is not None and _known(from_dir):
        return canonical_folder(from_dir), parts[:-1]
    if from_dir is None and _known(source.parent.name):
        return canonical_folder(source.parent.name), []
    guess = read_header(source).guess
    if guess.folder is None:
        what = "a pickle file" if source.suffix.lower() != ".safetensors" else "not recognised"
        raise ValidationError(
            f"cannot tell which folder {source.name!r} belongs in ({what}); pass --folder"
        )
    return guess.folder, []


def _relpath(root: Path, folder: str, subdirs: list[str], name: str) -> str:
    for part in (*subdirs, name):
        validate_filename(part)
    rel = "/".join([folder, *subdirs, name])
    if not is_model_file(rel):
        kinds = ", ".join(sorted(MODEL_EXTENSIONS - {".yaml"}))
        raise ValidationError(f"{name!r} is not a model file (expected {kinds})")
    safe_relpath(root, rel)
    return rel


def plan_import(
    sources: Sequence[Path], folder: str | None, root: Path, roots: Sequence[Path]
) -> ImportPlan:
    """Every file to import, with its wanted library path, and the files of folders that are
    skipped (blocking: run it in a thread)."""
    chosen = validate_folder(folder) if folder else None
    planned: list[PlannedFile] = []
    skipped: list[Skipped] = []
    for source in sources:
        if not source.exists():
            raise ValidationError(f"{source}: no such file or directory")
        inside = _inside_any(source, roots)
        if inside is not None:
            raise ValidationError(
                f"{source} is already inside the library ({inside}); run 'comfy-tui models scan'"
            )
        if source.is_dir():
            walked = walk_root(source)
            if not walked.files:
                raise ValidationError(f"{source}: no model files found in this folder")
            skipped.extend(_walk_skips(source, walked.skipped))
            for found in walked.files:
                parts = found.relpath.split("/")
                file = source.joinpath(*parts)
                try:
                    target, subdirs = _target(file, parts, chosen, source.name)
                    rel = _relpath(root, target, subdirs, parts[-1])
                except (ValidationError, OSError) as exc:
                    skipped.append(Skipped(file, _reason(exc)))
                    continue
                planned.append(PlannedFile(file, rel, found.size))
        elif source.is_file():
            target, subdirs = _target(source, [source.name], chosen, None)
            rel = _relpath(root, target, subdirs, source.name)
            planned.append(PlannedFile(source, rel, source.stat().st_size))
        else:
            raise ValidationError(f"{source}: not a regular file or a folder")
    return ImportPlan(planned, skipped)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return f"cannot read it ({exc.strerror or exc})"
    return str(exc)


def _walk_skips(source: Path, lines: Sequence[str]) -> list[Skipped]:
    """The walk's "relpath: reason" lines as skipped files."""
    found: list[Skipped] = []
    for line in lines:
        rel, _, reason = line.partition(": ")
        found.append(Skipped(source / rel, reason or "skipped"))
    return found

"""Symlink mode: relative links to the library inside a version's own `models/` folder.

For tools that ignore `extra_model_paths.yaml`. Each library file gets a link at the same
relative path (`models/loras/x.safetensors → ../../../library/models/loras/x.safetensors`).
A real file that is already there is never touched. Links that point into the library but are
broken, or point at another file, are replaced atomically (new link + rename); a link whose
library file is gone is removed.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from comfy_tui.errors import ValidationError
from comfy_tui.validate import safe_relpath, validate_filename

__all__ = ["LinkReport", "sync_symlinks"]


@dataclass
class LinkReport:
    created: int = 0
    repaired: int = 0
    removed: int = 0
    kept: int = 0
    skipped: list[str] = field(default_factory=list)


def _into(target: str, roots: Sequence[Path]) -> bool:
    real = os.path.realpath(target)
    return any(real.startswith(os.path.realpath(r) + os.sep) for r in roots)


def _place_link(link: Path, text: str) -> None:
    tmp = link.with_name(f".{link.name}.{secrets.token_hex(6)}.link")
    os.symlink(text, tmp)
    os.replace(tmp, link)


def sync_symlinks(
    models_dir: Path, files: Sequence[tuple[str, Path]], roots: Sequence[Path]
) -> LinkReport:
    """Make `models_dir/<relpath>` a relative link to each library file (blocking)."""
    report = LinkReport()
    wanted: set[Path] = set()
    for relpath, target in files:
        parent_rel, _, name = relpath.rpartition("/")
        try:
            validate_filename(name)
            parent = safe_relpath(models_dir, parent_rel, what="the version's models folder")
        except ValidationError as exc:
            report.skipped.append(f"{relpath}: {exc}")
            continue
        link = parent / name
        if link in wanted:
            continue  # the same path in two roots: the first root wins
        wanted.add(link)
        parent.mkdir(parents=True, exist_ok=True)
        text = os.path.relpath(os.path.realpath(target), os.path.realpath(parent))
        if link.is_symlink():
            if os.readlink(link) == text and link.exists():
                report.kept += 1
                continue
            _place_link(link, text)
            report.repaired += 1
        elif link.exists():
            report.skipped.append(f"{relpath}: a real file is there; left alone")
        else:
            _place_link(link, text)
            report.created += 1
    for directory, _, names in os.walk(models_dir):
        for name in names:
            path = Path(directory, name)
            if path in wanted or not path.is_symlink() or path.exists():
                continue
            points_to = os.path.join(directory, os.readlink(path))
            if _into(points_to, roots):
                path.unlink()
                report.removed += 1
    return report

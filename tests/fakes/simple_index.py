"""A PEP 503 "simple" package index on disk (a file:// URL), built from a folder of wheels.

Like a registry mirror served from disk, its pages give no upload times: uv's
``--exclude-newer`` cannot date its files ("is missing an upload date"). `build_simple_index`
links each wheel by its absolute file:// URL; `pytorch_like` lays several out as PyTorch's
index does (`<root>/cpu/`, `<root>/cu128/`, ...).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from pathlib import Path


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def build_simple_index(dest: Path, wheels: Iterable[Path]) -> str:
    """Write `dest/<name>/index.html` for `wheels`; returns the index's file:// URL."""
    by_name: dict[str, list[Path]] = {}
    for wheel in wheels:
        by_name.setdefault(_normal(wheel.name.split("-", 1)[0]), []).append(wheel)
    dest.mkdir(parents=True, exist_ok=True)
    root = ["<!DOCTYPE html><html><body>"]
    for name, files in sorted(by_name.items()):
        root.append(f'<a href="{name}/">{name}</a>')
        links = [
            f'<a href="{w.resolve().as_uri()}#sha256={hashlib.sha256(w.read_bytes()).hexdigest()}"'
            f">{w.name}</a>"
            for w in sorted(files)
        ]
        page = "\n".join(["<!DOCTYPE html><html><body>", *links, "</body></html>"])
        (dest / name).mkdir(exist_ok=True)
        (dest / name / "index.html").write_text(page + "\n")
    (dest / "index.html").write_text("\n".join([*root, "</body></html>"]) + "\n")
    return dest.as_uri()


def pytorch_like(root: Path, builds: Mapping[str, Iterable[Path]]) -> str:
    """One simple index per build under `root`; returns the base URL (set `pytorch_index`)."""
    for label, wheels in builds.items():
        build_simple_index(root / label, wheels)
    return root.as_uri()

"""What an update carries from a version's old checkout to its new one (blocking file work).

- `clone_venv`: the environment, as a tree of hard links to the old one's files (uv never
  writes into an installed file: it unlinks and links, as it does with its own cache), except
  the files at the top of the venv and in `bin/` (the constraints file, `pyvenv.cfg`, scripts),
  which are copied because comfy-tui and pip rewrite them in place. A pip-made venv is copied
  whole (pip may write into files it installs).
- `copy_nodes`: `custom_nodes/`: links to shared nodes are made again, a version's own nodes
  copied (the old checkout keeps its own, as part of the rollback point).
- `user_entries` / `move_entries`: the user's files in `user/`, `output/`, `input/`, `models/`
  (everything git does not track there, found with ``git ls-files --others --directory``),
  moved by rename from one checkout to the other: they follow the version, never copied.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from comfy_tui.services.git import git_env

__all__ = ["DATA_DIRS", "clone_venv", "copy_nodes", "move_entries", "user_entries"]

DATA_DIRS = ("user", "output", "input", "models")
"""Folders of a checkout whose untracked contents are the user's and move with the version."""


def clone_venv(src: Path, dest: Path, *, hardlinks: bool) -> None:
    """`dest` becomes a copy of the venv `src` (hard-linked below the top level if asked)."""
    if not hardlinks:
        shutil.copytree(src, dest, symlinks=True)
        return
    for dirpath, dirnames, filenames in os.walk(src):
        here = Path(dirpath)
        rel = here.relative_to(src)
        target = dest / rel
        target.mkdir(parents=True, exist_ok=True)
        shutil.copystat(here, target)
        copy_here = rel == Path(".") or rel == Path("bin")
        for name in [*filenames, *(d for d in dirnames if (here / d).is_symlink())]:
            source = here / name
            if source.is_symlink():
                os.symlink(os.readlink(source), target / name)
            elif copy_here:
                shutil.copy2(source, target / name)
            else:
                os.link(source, target / name)
        dirnames[:] = [d for d in dirnames if not (here / d).is_symlink()]


def copy_nodes(src: Path, dest: Path) -> list[str]:
    """Every entry of `src/custom_nodes/` that `dest/custom_nodes/` lacks: links made again,
    folders and files copied. Returns the names carried."""
    source, target = src / "custom_nodes", dest / "custom_nodes"
    if not source.is_dir():
        return []
    target.mkdir(exist_ok=True)
    carried = []
    for entry in sorted(source.iterdir()):
        if entry.name == "__pycache__" or (target / entry.name).exists():
            continue
        if entry.is_symlink():
            os.symlink(os.readlink(entry), target / entry.name)
        elif entry.is_dir():
            shutil.copytree(entry, target / entry.name, symlinks=True)
        else:
            shutil.copy2(entry, target / entry.name)
        carried.append(entry.name)
    return carried


def user_entries(checkout: Path) -> list[str]:
    """Paths (relative, folders with a trailing '/') of what git does not track in the data
    folders of `checkout`; [] when it is no git checkout."""
    wanted = [d for d in DATA_DIRS if (checkout / d).exists()]
    if not wanted or not (checkout / ".git").exists():
        return []
    argv = ["git", "-C", str(checkout), "ls-files", "--others", "--directory", "-z", "--"]
    run = subprocess.run(
        [*argv, *wanted], capture_output=True, env=git_env(), timeout=120, check=False
    )
    if run.returncode != 0:
        return []
    return [p for p in run.stdout.decode("utf-8", "surrogateescape").split("\0") if p]


def move_entries(src: Path, dest: Path, entries: list[str]) -> list[str]:
    """Rename each entry from `src` to `dest` (parents made); one that `dest` has already is
    left where it is. Returns those left behind."""
    left = []
    for rel in entries:
        rel = rel.rstrip("/")
        source, target = src / rel, dest / rel
        if not source.exists() and not source.is_symlink():
            continue
        if target.exists() or target.is_symlink():
            left.append(rel)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        source.rename(target)
    return left

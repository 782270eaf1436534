"""An existing ComfyUI folder to adopt: the fake ComfyUI as a git checkout with its own venv.

`make_clone(dest)` lays out a plain clone (`dest/main.py`, `dest/.venv/`); `make_portable(dest)`
a portable folder (`dest/ComfyUI/main.py`, `dest/python_embeded/`). Both are real: a git
repository with one commit and a venv made by `python -m venv` (the fake ComfyUI needs only
the standard library). `add_node` puts a git checkout in `custom_nodes/` whose origin is the
https URL users know (cloned from a `NodeMirror`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.fakes.installed_version import FAKE_SOURCE
from tests.fakes.node_repo import NodeMirror

_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "user",
    "GIT_AUTHOR_EMAIL": "user@example.invalid",
    "GIT_COMMITTER_NAME": "user",
    "GIT_COMMITTER_EMAIL": "user@example.invalid",
}


def git(cwd: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", *args],
        cwd=cwd,
        env={**os.environ, **_ENV},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.strip()


def _checkout(dest: Path) -> Path:
    shutil.copytree(FAKE_SOURCE, dest, ignore=shutil.ignore_patterns("__pycache__"))
    (dest / "custom_nodes").mkdir()
    (dest / "models" / "checkpoints").mkdir(parents=True)
    git(dest, "init", "-q", "-b", "master")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "ComfyUI")
    return dest


def make_venv(dest: Path) -> Path:
    """A real venv at `dest` (no pip: the fake ComfyUI needs none); returns its python."""
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(dest)], check=True, timeout=120)
    return dest / "bin" / "python"


def make_clone(dest: Path, env_dir: str = ".venv") -> Path:
    """A plain clone with its venv inside; returns the checkout."""
    _checkout(dest)
    make_venv(dest / env_dir)
    return dest


def make_portable(dest: Path) -> Path:
    """`dest/ComfyUI/` beside `dest/python_embeded/`; returns `dest`."""
    dest.mkdir(parents=True)
    _checkout(dest / "ComfyUI")
    make_venv(dest / "python_embeded")
    return dest


def add_node(checkout: Path, mirror: NodeMirror, name: str) -> str:
    """Clone `name` from `mirror` into custom_nodes/ with its https origin; returns HEAD."""
    target = checkout / "custom_nodes" / name
    git(checkout, "clone", "-q", str(mirror.bare(name)), str(target))
    git(target, "remote", "set-url", "origin", mirror.url(name))
    return git(target, "rev-parse", "HEAD")


def listing(root: Path) -> dict[str, tuple[int, int]]:
    """Every path under `root` (relative) with its size and mtime_ns: what "untouched" means."""
    found = {}
    for path in sorted(root.rglob("*")):
        if "__pycache__" in path.parts:
            continue
        st = path.lstat()
        found[str(path.relative_to(root))] = (st.st_size, st.st_mtime_ns)
    return found

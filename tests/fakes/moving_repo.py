"""A fake upstream ComfyUI whose `master` moves: commits without a release tag, and a branch.

`build_moving_repo(dest)` is the default fake repository (tests/fakes/comfyui_repo.py) plus
one untagged commit on `master` (version "0.4.1-dev"); `advance(bare, branch, version)` pushes
one more untagged commit to `branch` (created from master when missing) and returns its id.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.fakes.comfyui_repo import DEFAULT_TAGS, FakeTag, _git, build_comfyui_repo, write_tree


def advance(bare: Path, branch: str, version: str, files: dict[str, str] | None = None) -> str:
    """One more untagged commit on `branch` upstream; returns its commit id."""
    work = bare.parent / f"work-{branch.replace('/', '-')}-{version}"
    _git(bare.parent, "clone", "-q", str(bare), str(work))
    _git(work, "checkout", "-q", "-B", branch, f"origin/{branch}" if _has(work, branch) else "HEAD")
    write_tree(work, FakeTag(f"v{version}", files=files or {}))
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "--allow-empty", "-m", f"work towards {version}")
    commit = _git(work, "rev-parse", "HEAD").strip()
    _git(work, "push", "-q", "origin", f"HEAD:refs/heads/{branch}")
    shutil.rmtree(work)
    return commit


def _has(work: Path, branch: str) -> bool:
    return bool(_git(work, "branch", "-r", "--list", f"origin/{branch}").strip())


def build_moving_repo(dest: Path) -> Path:
    bare = build_comfyui_repo(dest, DEFAULT_TAGS)
    advance(bare, "master", "0.4.1.dev1")
    return bare

"""A small bare git repository with dated tags, built with the real git (for mirror fallbacks)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def _git(cwd: Path, *args: str, date: str | None = None) -> None:
    env = {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, timeout=60)


def make_tagged_repo(root: Path, tags: list[tuple[str, str]], *, annotated: bool = True) -> Path:
    """A bare repo at `root/bare.git` with one commit per (tag, ISO date); returns its path."""
    work = root / "work"
    work.mkdir(parents=True)
    _git(work, "init", "-q", "-b", "master")
    for i, (tag, date) in enumerate(tags):
        (work / "f").write_text(str(i))
        _git(work, "add", "f")
        _git(work, "commit", "-q", "-m", f"c{i}", date=date)
        if annotated:
            _git(work, "tag", "-a", tag, "-m", tag, date=date)
        else:
            _git(work, "tag", tag, date=date)
    bare = root / "bare.git"
    _git(root, "clone", "-q", "--bare", str(work), str(bare))
    return bare

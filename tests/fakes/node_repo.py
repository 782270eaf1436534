"""Custom node repositories for tests: local bare git repos laid out like a `nodes_mirror`.

`NodeMirror(root)` is a folder used as the `nodes_mirror` setting; `mirror.add(name, ...)`
publishes `root/example/<name>.git` whose https URL (the one users type) is
`https://github.com/example/<name>`. Each commit writes the node's `__init__.py` (ComfyUI's
NODE_CLASS_MAPPINGS), and optionally requirements.txt, install.py and other files.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

OWNER = "example"


def _git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "node",
        "GIT_AUTHOR_EMAIL": "node@example.invalid",
        "GIT_COMMITTER_NAME": "node",
        "GIT_COMMITTER_EMAIL": "node@example.invalid",
        "GIT_TERMINAL_PROMPT": "0",
    }
    result = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True, timeout=60
    )
    return result.stdout.strip()


@dataclass(frozen=True)
class NodeCommit:
    """One commit of a node: None leaves a file out (removes it if an earlier commit had it)."""

    requirements: str | None = None
    install_script: str | None = None
    files: Mapping[str, str] = field(default_factory=dict)
    message: str = "update"


def _write(work: Path, name: str, commit: NodeCommit) -> None:
    (work / "__init__.py").write_text(
        f'"""The {name} custom node (fake)."""\n\nNODE_CLASS_MAPPINGS: dict = {{}}\n'
        f"NODE_DISPLAY_NAME_MAPPINGS: dict = {{}}\n# {commit.message}\n"
    )
    for rel, text in (
        ("requirements.txt", commit.requirements),
        ("install.py", commit.install_script),
    ):
        path = work / rel
        if text is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(text)
    for rel, text in commit.files.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(text)


class NodeMirror:
    """A folder of bare node repositories (`root/example/<name>.git`)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    @property
    def uri(self) -> str:
        return self.root.as_uri()

    @staticmethod
    def url(name: str) -> str:
        return f"https://github.com/{OWNER}/{name}"

    def bare(self, name: str) -> Path:
        return self.root / OWNER / f"{name}.git"

    def add(self, name: str, *commits: NodeCommit) -> list[str]:
        """Publish a node with `commits` (at least one); returns their hashes, oldest first."""
        work = self.root / f".work-{name}"
        work.mkdir(parents=True)
        _git(work, "init", "-q", "-b", "main")
        hashes = []
        for commit in commits or (NodeCommit(message="first"),):
            _write(work, name, commit)
            _git(work, "add", "-A")
            _git(work, "commit", "-q", "-m", commit.message)
            hashes.append(_git(work, "rev-parse", "HEAD"))
        self.bare(name).parent.mkdir(parents=True, exist_ok=True)
        _git(self.root, "clone", "-q", "--bare", str(work), str(self.bare(name)))
        shutil.rmtree(work)
        return hashes

    def push(self, name: str, commit: NodeCommit) -> str:
        """One more commit on main upstream; returns its hash."""
        work = self.root / f".work-{name}"
        _git(self.root, "clone", "-q", str(self.bare(name)), str(work))
        _write(work, name, commit)
        _git(work, "add", "-A")
        _git(work, "commit", "-q", "-m", commit.message)
        _git(work, "push", "-q", "origin", "HEAD:main")
        sha = _git(work, "rev-parse", "HEAD")
        shutil.rmtree(work)
        return sha

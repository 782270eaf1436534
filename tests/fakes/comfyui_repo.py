"""A fake ComfyUI git repository: a bare repo with three tags built from tests/fakes/comfyui/.

Each tag gets its own `comfyui_version.py`, `fake_features.py` (the flags its `main.py`
accepts) and `requirements.txt`:

- ``v0.3.60``: no ``--quick-test-for-ci`` (the smoke test falls back to ``--help``), dated
  2021 so the exclude-newer rule applies, a lightweight tag;
- ``v0.3.77``: the usual flags, dated now, annotated;
- ``v0.4.0``: adds ``--enable-manager``, dated now, annotated.

Dates are set with GIT_COMMITTER_DATE / GIT_AUTHOR_DATE (and the tagger date follows).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

SOURCE = Path(__file__).resolve().parent / "comfyui"
REQUIREMENTS = "torch\ntorchvision\ntinydep\n"


def _base_flags() -> list[str]:
    namespace: dict[str, object] = {}
    exec((SOURCE / "fake_features.py").read_text(), namespace)
    flags = namespace["FLAGS"]
    assert isinstance(flags, list)
    return [str(f) for f in flags]


@dataclass(frozen=True)
class FakeTag:
    name: str
    date: str | None = None  # ISO date for git, None = now
    drop_flags: Sequence[str] = ()
    add_flags: Sequence[str] = ()
    annotated: bool = True
    requirements: str = REQUIREMENTS
    files: Mapping[str, str] = field(default_factory=dict)  # extra files to write

    @property
    def version(self) -> str:
        return self.name.removeprefix("v")


DEFAULT_TAGS = (
    FakeTag("v0.3.60", date="2021-03-01T12:00:00+00:00", drop_flags=["--quick-test-for-ci"],
            annotated=False),
    FakeTag("v0.3.77"),
    FakeTag("v0.4.0", add_flags=["--enable-manager"]),
)  # fmt: skip


def _git(cwd: Path, *args: str, date: str | None = None) -> str:
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "fake",
        "GIT_AUTHOR_EMAIL": "fake@example.invalid",
        "GIT_COMMITTER_NAME": "fake",
        "GIT_COMMITTER_EMAIL": "fake@example.invalid",
    }
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    result = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True, timeout=60
    )
    return result.stdout


def write_tree(work: Path, tag: FakeTag) -> None:
    """The fake ComfyUI source of one tag, written into `work`."""
    for name in ("main.py", "README.md", "fake_jobs.py"):
        shutil.copy2(SOURCE / name, work / name)
    flags = [f for f in _base_flags() if f not in tag.drop_flags] + list(tag.add_flags)
    (work / "comfyui_version.py").write_text(
        f'"""Version of the fake ComfyUI."""\n\n__version__ = "{tag.version}"\n'
    )
    (work / "fake_features.py").write_text(
        '"""Flags this tag of the fake ComfyUI accepts."""\n\nFLAGS = [\n'
        + "".join(f'    "{f}",\n' for f in flags)
        + "]\n"
    )
    (work / "requirements.txt").write_text(tag.requirements)
    for rel, text in tag.files.items():
        (work / rel).parent.mkdir(parents=True, exist_ok=True)
        (work / rel).write_text(text)


def build_comfyui_repo(dest: Path, tags: Sequence[FakeTag] = DEFAULT_TAGS) -> Path:
    """Build `dest/ComfyUI.git` (bare) with `tags`, in order, and return its path."""
    work = dest / "work"
    work.mkdir(parents=True)
    _git(work, "init", "-q", "-b", "master")
    for tag in tags:
        write_tree(work, tag)
        _git(work, "add", "-A")
        _git(work, "commit", "-q", "-m", f"release {tag.name}", date=tag.date)
        if tag.annotated:
            _git(work, "tag", "-a", tag.name, "-m", f"ComfyUI {tag.name}", date=tag.date)
        else:
            _git(work, "tag", tag.name, date=tag.date)
    bare = dest / "ComfyUI.git"
    _git(dest, "clone", "-q", "--bare", str(work), str(bare))
    shutil.rmtree(work)
    return bare


def add_tag(bare: Path, tag: FakeTag) -> None:
    """Publish one more tag in an existing fake repository (a new release upstream)."""
    work = bare.parent / f"work-{tag.name}"
    _git(bare.parent, "clone", "-q", str(bare), str(work))
    write_tree(work, tag)
    _git(work, "add", "-A")
    _git(work, "commit", "-q", "-m", f"release {tag.name}", date=tag.date)
    _git(work, "tag", "-a", tag.name, "-m", f"ComfyUI {tag.name}", date=tag.date)
    _git(work, "push", "-q", "origin", "HEAD:master", tag.name)
    shutil.rmtree(work)

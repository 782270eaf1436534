"""services/lifecycle/carry.py: the venv clone shares only what nobody rewrites in place; the
user's untracked files move between checkouts, tracked ones stay."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from comfy_tui.services.lifecycle.carry import clone_venv, move_entries, user_entries


def test_clone_venv_links_the_library_and_copies_the_top(tmp_path: Path) -> None:
    src = tmp_path / "a" / ".venv"
    (src / "lib" / "site-packages" / "pkg").mkdir(parents=True)
    (src / "bin").mkdir()
    (src / "lib" / "site-packages" / "pkg" / "__init__.py").write_text("x = 1\n")
    (src / "comfy-tui-constraints.txt").write_text("torch==2.5.1\n")
    (src / "bin" / "tool").write_text("#!/bin/sh\n")
    os.symlink("/usr/bin/python3", src / "bin" / "python")
    dest = tmp_path / "b" / ".venv"
    clone_venv(src, dest, hardlinks=True)
    inode = os.stat
    lib = Path("lib/site-packages/pkg/__init__.py")
    assert inode(src / lib).st_ino == inode(dest / lib).st_ino
    for rel in ("comfy-tui-constraints.txt", "bin/tool"):
        assert inode(src / rel).st_ino != inode(dest / rel).st_ino
    assert os.readlink(dest / "bin" / "python") == "/usr/bin/python3"
    (dest / "comfy-tui-constraints.txt").write_text("torch==9\n")
    assert (src / "comfy-tui-constraints.txt").read_text() == "torch==2.5.1\n"
    whole = tmp_path / "c" / ".venv"
    clone_venv(src, whole, hardlinks=False)
    assert inode(src / lib).st_ino != inode(whole / lib).st_ino


def test_user_files_move_and_tracked_ones_stay(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    for checkout in (old, new):
        (checkout / "output").mkdir(parents=True)
        (checkout / "output" / "_keep").write_text("")
        subprocess.run(["git", "init", "-q", str(checkout)], check=True)
        subprocess.run(["git", "-C", str(checkout), "add", "-A"], check=True)
    (old / "output" / "img.png").write_text("png")
    (old / "user" / "default").mkdir(parents=True)
    (old / "user" / "default" / "flow.json").write_text("{}")
    entries = user_entries(old)
    assert sorted(entries) == ["output/img.png", "user/"]
    assert move_entries(old, new, entries) == []
    assert (new / "output" / "img.png").read_text() == "png"
    assert (new / "user" / "default" / "flow.json").is_file()
    assert (old / "output" / "_keep").exists() and not (old / "user").exists()

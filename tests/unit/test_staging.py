"""Install locks, stale staging dirs, venv script relinking and du-style disk use."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from comfy_tui.errors import LockBusyError
from comfy_tui.paths import DataPaths
from comfy_tui.services import staging
from comfy_tui.services.flock import AsyncFileLock, try_lock


async def test_a_second_holder_in_the_same_process_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    async with AsyncFileLock(path, timeout=0):
        with pytest.raises(LockBusyError, match="is being installed"):
            async with AsyncFileLock(path, timeout=0, busy="v1 is being installed"):
                pass
    async with AsyncFileLock(path, timeout=0):  # released
        pass


async def test_a_holder_in_another_process_is_refused_until_it_dies(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import fcntl, os, sys, time
                fd = os.open({str(path)!r}, os.O_RDWR | os.O_CREAT)
                fcntl.flock(fd, fcntl.LOCK_EX)
                print("held", flush=True)
                time.sleep(60)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockBusyError):
            await AsyncFileLock(path, timeout=0.2).acquire()
        holder.kill()
        holder.wait(timeout=10)
        lock = AsyncFileLock(path, timeout=5)
        await lock.acquire()
        lock.release()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=10)
        holder.stdout.close()  # type: ignore[union-attr]


def test_remove_stale_spares_a_running_install(tmp_path: Path) -> None:
    paths = DataPaths(tmp_path / "data")
    versions = paths.versions_dir()
    stale = versions / ".staging-v0.3.77-0123abcd"
    running = versions / ".staging-v0.4.0-rc1-89abcdef"
    removing = versions / ".removing-v0.3.60-00000000"
    mine = versions / ".staging-v0.5.0-11111111"
    installed = versions / "v0.3.77"
    for d in (stale, running, removing, mine, installed):
        (d / "sub").mkdir(parents=True)
    fd = try_lock(paths.install_lock("v0.4.0-rc1"))
    assert fd is not None
    try:
        removed = staging.remove_stale(paths, held="v0.5.0")
    finally:
        os.close(fd)
    assert sorted(p.name for p in removed) == sorted([stale.name, removing.name, mine.name])
    assert running.exists() and installed.exists()
    assert not stale.exists() and not removing.exists() and not mine.exists()


def test_relink_scripts_points_shebangs_at_the_new_place(tmp_path: Path) -> None:
    old, new = tmp_path / ".staging-x" / ".venv", tmp_path / "x" / ".venv"
    (new / "bin").mkdir(parents=True)
    script = new / "bin" / "pip"
    script.write_text(f"#!{old}/bin/python\nimport pip\n")
    script.chmod(0o755)
    (new / "bin" / "python").symlink_to(sys.executable)
    (new / "bin" / "blob").write_bytes(b"\0" + str(old).encode())
    assert staging.relink_scripts(new, old, new) == 1
    assert script.read_text().startswith(f"#!{new}/bin/python\n")
    assert os.access(script, os.X_OK)
    assert (new / "bin" / "blob").read_bytes() == b"\0" + str(old).encode()


def test_du_counts_each_hardlinked_file_once(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (first / "big").write_bytes(b"x" * 200_000)
    os.link(first / "big", second / "big")
    (second / "own").write_bytes(b"y" * 50_000)
    size_a, size_b = staging.du_bytes(first, second)
    assert size_a >= 200_000
    assert 50_000 <= size_b < 100_000
    assert staging.du_bytes(second)[0] >= 250_000


def test_remove_tree_is_fine_with_missing_paths(tmp_path: Path) -> None:
    staging.remove_tree(tmp_path / "nothing")
    (tmp_path / "d" / "e").mkdir(parents=True)
    staging.remove_tree(tmp_path / "d")
    assert not (tmp_path / "d").exists()

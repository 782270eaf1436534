"""A launch racing a remove of the same version (two real `comfy-tui` processes started
together, several rounds): never an instance running from a deleted version. Whichever takes
the version's lock first wins; the other is refused with one line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from comfy_tui.paths import DataPaths
from comfy_tui.services.faults import PAUSE_AT_ENV
from comfy_tui.services.version_guard import live_instances
from tests.cli_run import run_cli
from tests.fakes.installed_version import install_fake_version
from tests.fakes.instance_lab import free_port, stop_everything
from tests.waiting import until

pytestmark = pytest.mark.usefixtures("no_leftover_children")

TAG = "v0.3.77"
ROUNDS = 6


def start(data_dir: Path, *args: str, pause_at: str = "") -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMFY_TUI_")}
    env["COMFY_TUI_BASE_PORT"] = str(free_port())
    if pause_at:
        env[PAUSE_AT_ENV] = pause_at
    return subprocess.Popen(
        [sys.executable, "-m", "comfy_tui", "--data-dir", str(data_dir), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(data_dir, *args)


async def test_launch_racing_remove_never_leaves_an_instance_of_a_deleted_version(
    data_dir: Path,
) -> None:
    paths = DataPaths(data_dir)
    try:
        for _ in range(ROUNDS):
            install_fake_version(paths, TAG)
            launch = start(data_dir, "launch", TAG, "--no-wait")
            remove = start(data_dir, "remove", TAG, "--yes")
            launch_out, launch_err = launch.communicate(timeout=120)
            remove_out, remove_err = remove.communicate(timeout=120)
            said = (launch_out, launch_err, remove_out, remove_err)
            assert "Traceback" not in launch_err + remove_err, said
            live = [r for r in live_instances(paths) if r.version == TAG]
            installed = (data_dir / "versions" / TAG).is_dir()
            assert installed or not live, f"an instance runs from a deleted version: {said}"
            assert (launch.returncode == 0) == bool(live), said
            assert (remove.returncode == 0) != installed, said
            assert {launch.returncode, remove.returncode} == {0, 1}, f"one wins: {said}"
            await stop_everything(data_dir)
            if installed:
                assert cli(data_dir, "remove", TAG, "--yes").returncode == 0
    finally:
        await stop_everything(data_dir)


@pytest.mark.slow
async def test_a_remove_while_a_launch_is_between_its_check_and_its_record_is_refused(
    data_dir: Path, tmp_path: Path
) -> None:
    """The launch is held (a test gate) after it found the version installed and before its
    run record exists: the remove must not see "nothing running" and delete the version."""
    paths = DataPaths(data_dir)
    install_fake_version(paths, TAG)
    gate = tmp_path / "gate"
    launch = start(data_dir, "launch", TAG, "--no-wait", pause_at=f"launch.checked={gate}")
    try:
        reached = Path(f"{gate}.reached")
        await until(None, lambda: reached.exists() or launch.poll() is not None, "the gate")
        assert launch.poll() is None, launch.communicate()
        removed = cli(data_dir, "remove", TAG, "--yes")
        assert removed.returncode == 1, removed.stderr
        assert "launched" in removed.stderr and len(removed.stderr.splitlines()) == 1
        assert (data_dir / "versions" / TAG).is_dir()
        gate.touch()
        _, err = launch.communicate(timeout=120)
        assert launch.returncode == 0, err
        (record,) = live_instances(paths)
        assert record.version == TAG and (data_dir / "versions" / TAG).is_dir()
        refused = cli(data_dir, "remove", TAG, "--yes")
        assert refused.returncode == 1 and f"id {record.id}" in refused.stderr
    finally:
        gate.touch()
        launch.wait(timeout=120)
        await stop_everything(data_dir)

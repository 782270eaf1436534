"""A snapshot restore killed at each of its steps is settled by the next command, whatever
command it is: rolled back to the state before it, or declared finished, with one line.

The restore is killed with SIGKILL at a named step (the test-only `COMFY_TUI_TEST_KILL_AT`).
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

from comfy_tui.services.faults import KILL_AT_ENV
from comfy_tui.settings import Settings
from tests.cli_run import run_cli
from tests.fakes.install_fixtures import cli_env
from tests.fakes.node_fixtures import install_versions
from tests.fakes.node_repo import NodeCommit, NodeMirror

pytestmark = pytest.mark.usefixtures("no_leftover_children")

TAG = "v0.3.77"


def run(
    settings: Settings, *args: str, kill_at: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = cli_env(settings)
    env["COMFY_TUI_NODES_MIRROR"] = settings.nodes_mirror or ""
    if kill_at:
        env[KILL_AT_ENV] = kill_at
    return run_cli(settings.data_dir, *args, env=env)


def ok(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    result = run(settings, *args)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


def state(settings: Settings) -> tuple[bool, bool]:
    """(the node is linked, its package is installed), read through a fresh snapshot."""
    link = settings.data_dir / "versions" / TAG / "custom_nodes" / "Thing"
    snap = json.loads(ok(settings, "snapshot", "create", TAG, "--json").stdout)
    return link.is_symlink(), "nodedep==1.0" in snap["packages"]


@pytest.mark.parametrize(
    ("step", "said", "after"),
    [
        ("restore.captured", "had changed nothing", (True, True)),
        ("restore.nodes", "was rolled back to snapshot", (True, True)),
        ("restore.synced", "was rolled back to snapshot", (True, True)),
        ("restore.applied", "had finished", (False, False)),
    ],
)
async def test_a_killed_restore_is_settled_by_the_next_command(
    nodes_settings: Settings, node_mirror: NodeMirror, step: str, said: str,
    after: tuple[bool, bool],
) -> None:  # fmt: skip
    await install_versions(nodes_settings, TAG)
    node_mirror.add("Thing", NodeCommit(requirements="nodedep==1.0\n"))
    ok(nodes_settings, "nodes", "add", node_mirror.url("Thing"))
    ok(nodes_settings, "nodes", "enable", "Thing", TAG, "--yes")
    snapshots = json.loads(ok(nodes_settings, "snapshot", "list", TAG, "--json").stdout)
    [empty] = [s["id"] for s in snapshots["snapshots"] if s["reason"] == "before enabling Thing"]

    args = ("snapshot", "restore", TAG, empty, "--yes")
    killed = run(nodes_settings, *args, kill_at=step)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    journals = nodes_settings.data_dir / "metadata" / "journals"
    assert journals.is_dir()

    settled = ok(nodes_settings, "versions")  # any command settles it
    [line] = [ln for ln in settled.stderr.splitlines() if "interrupted restore" in ln]
    assert f"the interrupted restore of {TAG} to snapshot {empty} {said}" in line
    assert not journals.exists()
    assert "interrupted" not in ok(nodes_settings, "versions").stderr  # said once
    assert state(nodes_settings) == after


def test_no_journal_costs_nothing_and_a_damaged_one_is_reported(data_dir: Path) -> None:
    from comfy_tui.paths import DataPaths
    from comfy_tui.services.envsnap.journal import has_journals, journal_dir

    paths = DataPaths(data_dir)
    assert not has_journals(paths)
    journal_dir(paths).mkdir(parents=True)
    (journal_dir(paths) / "restore-v9.json").write_text("{not json")
    result = run_cli(data_dir, "config")
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert "damaged journal of an interrupted snapshot restore of v9" in result.stderr
    assert not journal_dir(paths).exists()

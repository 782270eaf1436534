"""The guard table through the CLI entry point: each destructive operation x {nothing running,
an instance running, an instance starting}, against real processes of the fake ComfyUI.

A live instance is named in one line (exit 1) before any confirmation is asked: the refused
runs below have no `--yes` and no terminal, so a question would have ended with exit 2.
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from comfy_tui.events import Finished
from comfy_tui.paths import DataPaths
from comfy_tui.services.container import Services, build_instances
from comfy_tui.services.instances.launch import LaunchRequest
from comfy_tui.settings import Settings
from comfy_tui.store.instance_records import InstanceRecord, require_instance
from tests.cli_run import run_cli
from tests.fakes.install_fixtures import cli_env
from tests.fakes.instance_lab import free_port, stop_everything
from tests.fakes.node_fixtures import install_versions
from tests.fakes.node_repo import NodeCommit, NodeMirror

pytestmark = pytest.mark.usefixtures("no_leftover_children")

TAG = "v0.3.77"


def run(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = cli_env(settings)
    env["COMFY_TUI_NODES_MIRROR"] = settings.nodes_mirror or ""
    return run_cli(settings.data_dir, *args, env=env)


def ok(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    result = run(settings, *args)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
async def prepared(
    nodes_settings: Settings, node_mirror: NodeMirror, data_dir: Path
) -> AsyncIterator[tuple[Settings, str]]:
    """An installed version with a shared node enabled (Thing), one not yet enabled whose
    requirements need a yes (Other), and a snapshot; then the instances are stopped."""
    settings = nodes_settings._replace(base_port=free_port(), ready_timeout=30.0)
    await install_versions(settings, TAG)
    node_mirror.add("Thing")
    node_mirror.add("Other", NodeCommit(requirements="nodedep==1.0\n"))
    ok(settings, "nodes", "add", node_mirror.url("Thing"))
    ok(settings, "nodes", "add", node_mirror.url("Other"))
    ok(settings, "nodes", "enable", "Thing", TAG, "--yes")
    snapshot = ok(settings, "snapshot", "create", TAG, "--json").stdout
    snapshot_id = snapshot.split('"id": "')[1].split('"')[0]
    try:
        yield settings, snapshot_id
    finally:
        await stop_everything(data_dir)


async def launch(settings: Settings, *, ready: bool) -> InstanceRecord:
    instances = build_instances(Services(settings), gpu_count=lambda: 0)
    env = {} if ready else {"FAKE_COMFYUI_STARTUP_DELAY": "300"}
    record = await instances.start(LaunchRequest(TAG, env=env))
    if ready:
        events = [e async for e in instances.wait_ready(record.id)]
        assert isinstance(events[-1], Finished)
    record = require_instance(instances.paths, record.id)
    assert record.state == ("running" if ready else "starting")
    return record


def destructive(snapshot_id: str) -> list[tuple[str, ...]]:
    return [
        ("remove", TAG),
        ("snapshot", "restore", TAG, snapshot_id),
        ("nodes", "rm", "Thing"),
        ("nodes", "update", "Thing"),
        ("nodes", "enable", "Other", TAG),
        ("nodes", "disable", "Thing", TAG),
    ]


def state_of(data_dir: Path) -> tuple[bool, bool, bool, int]:
    version = data_dir / "versions" / TAG
    snapshots = data_dir / "metadata" / "snapshots" / TAG
    return (
        version.is_dir(),
        (version / "custom_nodes" / "Thing").is_symlink(),
        (version / "custom_nodes" / "Other").exists(),
        len(list(snapshots.glob("*.json"))),
    )


@pytest.mark.parametrize("ready", [True, False], ids=["running", "starting"])
async def test_a_live_instance_refuses_every_destructive_operation_before_asking(
    prepared: tuple[Settings, str], data_dir: Path, ready: bool
) -> None:
    settings, snapshot_id = prepared
    record = await launch(settings, ready=ready)
    before = state_of(data_dir)
    for args in destructive(snapshot_id):
        result = run(settings, *args)
        assert result.returncode == 1, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, (args, result.stderr)
        assert f"{TAG} :{record.port}, id {record.id} is {record.state}" in lines[0], lines
        assert lines[0].endswith(f"stop it with: comfy-tui stop {record.id}"), lines
        assert state_of(data_dir) == before, args
    assert require_instance(DataPaths(settings.data_dir), record.id).live


@pytest.mark.slow
async def test_with_nothing_running_each_operation_asks_then_runs(
    prepared: tuple[Settings, str], data_dir: Path
) -> None:
    settings, snapshot_id = prepared
    for args in destructive(snapshot_id):
        if args[:2] in (("nodes", "update"), ("nodes", "disable")):
            continue  # these ask nothing
        asked = run(settings, *args)
        assert asked.returncode == 2 and "add --yes" in asked.stderr, (args, asked.stderr)
    ok(settings, "nodes", "update", "Thing")
    ok(settings, "nodes", "disable", "Thing", TAG)
    ok(settings, "nodes", "enable", "Other", TAG, "--yes")
    ok(settings, "snapshot", "restore", TAG, snapshot_id, "--yes")
    assert state_of(data_dir)[1:3] == (True, False), "the snapshot had Thing, not Other"
    ok(settings, "nodes", "rm", "Thing", "--yes")
    ok(settings, "remove", TAG, "--yes")
    assert not (data_dir / "versions" / TAG).exists()

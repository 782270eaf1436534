"""`comfy-tui nodes ...` and `comfy-tui snapshot ...` as a script sees them (real processes)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from comfy_tui.settings import Settings
from tests.cli_run import run_cli
from tests.fakes.install_fixtures import cli_env
from tests.fakes.node_fixtures import install_versions, nodes_settings_for
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
    assert "Traceback" not in result.stderr
    return result


@pytest.mark.slow
async def test_add_enable_snapshot_disable_restore_remove(
    nodes_settings: Settings, node_mirror: NodeMirror, data_dir: Path
) -> None:
    await install_versions(nodes_settings, TAG)
    (commit,) = node_mirror.add("Thing", NodeCommit(requirements="nodedep==1.0\n"))
    url = node_mirror.url("Thing")
    link = data_dir / "versions" / TAG / "custom_nodes" / "Thing"

    added = ok(nodes_settings, "nodes", "add", url, "--json")
    assert json.loads(added.stdout)["commit"] == commit
    assert "cloning" in added.stderr

    refused = run(nodes_settings, "nodes", "enable", "Thing", TAG)
    assert refused.returncode == 2 and "+ nodedep 1.0" in refused.stderr
    assert "add --yes" in refused.stderr.splitlines()[-1] and not link.exists()

    enabled = ok(nodes_settings, "nodes", "enable", "Thing", TAG, "--yes")
    assert enabled.stdout.strip() == f"Thing enabled in {TAG} (1 package(s) changed)"
    assert link.is_symlink()
    listed = json.loads(ok(nodes_settings, "nodes", "list", "--json").stdout)
    assert [(n["name"], n["enabled_in"]) for n in listed["nodes"]] == [("Thing", [TAG])]
    assert f"Thing  {commit[:12]}  main  {TAG}" in ok(nodes_settings, "nodes", "list").stdout

    created = json.loads(ok(nodes_settings, "snapshot", "create", TAG, "--json").stdout)
    assert "nodedep==1.0" in created["packages"]
    disabled = ok(nodes_settings, "nodes", "disable", "Thing", TAG)
    assert "its packages stay installed" in disabled.stdout and not link.exists()

    snapshots = json.loads(ok(nodes_settings, "snapshot", "list", TAG, "--json").stdout)
    reasons = [s["reason"] for s in snapshots["snapshots"]]
    assert reasons == ["before disabling Thing", "on demand", "before enabling Thing"]
    table = ok(nodes_settings, "snapshot", "list", TAG).stdout
    assert table.startswith("ID") and "before enabling Thing" in table

    no = run(nodes_settings, "snapshot", "restore", TAG, created["id"])
    assert no.returncode == 2 and "Thing: enabled at" in no.stderr and not link.exists()
    restored = ok(nodes_settings, "snapshot", "restore", TAG, created["id"], "--yes")
    assert f"restored to snapshot {created['id']}" in restored.stdout and link.is_symlink()

    assert run(nodes_settings, "nodes", "rm", "Thing").returncode == 2
    removed = ok(nodes_settings, "nodes", "rm", "Thing", "--yes")
    assert removed.stdout.strip() == f"removed Thing (disabled in {TAG})"
    assert not link.exists() and not (data_dir / "nodes" / "Thing").exists()


@pytest.mark.slow
async def test_torch_change_needs_force_and_bad_input_exits_2(
    data_dir: Path,
    fake_upstream: Path,
    wheelhouse: Path,
    node_wheels: Path,
    torch_one: Path,
    node_mirror: NodeMirror,
) -> None:
    settings = nodes_settings_for(
        data_dir, fake_upstream, node_mirror, wheelhouse, node_wheels, torch_one
    )
    await install_versions(settings, TAG)
    node_mirror.add("OldTorch", NodeCommit(requirements="torch==1.0\n"))
    ok(settings, "nodes", "add", node_mirror.url("OldTorch"))

    refused = run(settings, "nodes", "enable", "OldTorch", TAG, "--yes")
    assert refused.returncode == 1
    last = refused.stderr.strip().splitlines()[-1]
    assert "would change the torch family" in last and "add --force" in last
    forced = ok(settings, "nodes", "enable", "OldTorch", TAG, "--yes", "--force", "--json")
    assert json.loads(forced.stdout)["torch_changes"] == [
        {"name": "torch", "old": "2.5.1+cpu", "new": "1.0"}
    ]

    for args in (
        ["nodes", "add", "http://github.com/a/b"],
        ["nodes", "enable", "../x", TAG],
        ["nodes", "update", "OldTorch", "--commit=-rf"],
        ["snapshot", "restore", TAG, "not-an-id"],
    ):
        bad = run(settings, *args)
        assert bad.returncode == 2, (args, bad.stderr)
        assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr
    missing = run(settings, "nodes", "update", "Nope")
    assert missing.returncode == 1 and "no shared node Nope" in missing.stderr

    first = json.loads(ok(settings, "snapshot", "list", TAG, "--json").stdout)["snapshots"][-1]
    assert first["reason"] == "before enabling OldTorch"
    ok(settings, "snapshot", "restore", TAG, first["id"], "--yes")  # torch 2.5.1+cpu again
    node_mirror.add("Later", NodeCommit(requirements="nodedep\n"))
    ok(settings, "nodes", "add", node_mirror.url("Later"))
    ok(settings, "nodes", "enable", "Later", TAG, "--yes")
    node_mirror.push("Later", NodeCommit(requirements="nodedep\ntorch==1.0\n"))
    updated = run(settings, "nodes", "update", "Later", "--yes")
    assert updated.returncode == 1
    last = updated.stderr.strip().splitlines()[-1]
    assert "would change the torch family" in last and "Later itself was updated" in last


async def test_update_installs_new_requirements_in_the_versions_using_it(
    nodes_settings: Settings, node_mirror: NodeMirror, data_dir: Path
) -> None:
    await install_versions(nodes_settings, TAG)
    node_mirror.add("Thing", NodeCommit(requirements="nodedep==1.0\n"))
    ok(nodes_settings, "nodes", "add", node_mirror.url("Thing"))
    ok(nodes_settings, "nodes", "enable", "Thing", TAG, "--yes")
    new = node_mirror.push("Thing", NodeCommit(requirements="nodedep==2.0\notherdep\n"))

    updated = ok(nodes_settings, "nodes", "update", "Thing", "--yes", "--json")
    document = json.loads(updated.stdout)
    assert document["node"]["commit"] == new
    assert document["versions"][TAG]["applied"] is True
    assert "~ nodedep 1.0 → 2.0" in updated.stderr and "+ otherdep 1.0" in updated.stderr
    again = ok(nodes_settings, "nodes", "update", "Thing")
    assert f"{TAG}: its requirements are already installed" in again.stdout

"""Snapshots and rollback for real: uv freeze/sync on an installed fake version, node commits."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from comfy_tui.errors import InstallError, NotFoundError, ValidationError, VersionInUseError
from comfy_tui.events import Finished
from comfy_tui.services.nodes import NodesService
from comfy_tui.settings import Settings
from tests.fakes.guards import fake_guard
from tests.fakes.node_fixtures import (
    StepClock,
    drain,
    install_versions,
    nodes_service,
    nodes_settings_for,
)
from tests.fakes.node_repo import NodeCommit, NodeMirror
from tests.fakes.wheelhouse import build_wheel

pytestmark = pytest.mark.usefixtures("no_leftover_children")

TAG = "v0.3.77"


def python_of(data_dir: Path) -> Path:
    return data_dir / "versions" / TAG / ".venv" / "bin" / "python"


def custom_nodes(data_dir: Path) -> Path:
    return data_dir / "versions" / TAG / "custom_nodes"


async def enable(service: NodesService, name: str) -> None:
    plan = await service.plan(name, TAG)
    await drain(service.enable(plan))


async def test_snapshot_change_restore_gives_back_packages_and_commits(
    nodes_settings: Settings, node_mirror: NodeMirror, data_dir: Path
) -> None:
    await install_versions(nodes_settings, TAG)
    (c1,) = node_mirror.add("Alpha", NodeCommit(requirements="nodedep==1.0\n"))
    node_mirror.add("Beta", NodeCommit(requirements="otherdep\n"))
    service = nodes_service(nodes_settings, now=StepClock())
    await drain(service.add(node_mirror.url("Alpha")))
    await drain(service.add(node_mirror.url("Beta")))
    await enable(service, "Alpha")
    own = custom_nodes(data_dir) / "own_tool.py"
    own.write_text("NODE_CLASS_MAPPINGS = {}\n")

    saved = await service.snapshots.create(TAG)
    tool = service.snapshots.tool()
    packages = await tool.freeze(python_of(data_dir))
    assert saved.packages == packages and "nodedep==1.0" in packages
    assert saved.reason == "on demand" and len(saved.comfyui_commit) == 40
    assert {(n.name, n.kind, n.commit) for n in saved.nodes} == {
        ("Alpha", "shared", c1),
        ("own_tool.py", "own", ""),
    }
    on_disk = json.loads(
        (data_dir / "metadata" / "snapshots" / TAG / f"{saved.id}.json").read_text()
    )
    assert on_disk["packages"] == list(packages)

    # change: Alpha moves to a new commit needing nodedep 2.0, Beta gets enabled too
    c2 = node_mirror.push("Alpha", NodeCommit(requirements="nodedep==2.0\n"))
    await drain(service.update("Alpha"))
    await enable(service, "Alpha")
    await enable(service, "Beta")
    changed = await tool.freeze(python_of(data_dir))
    assert "nodedep==2.0" in changed and "otherdep==1.0" in changed
    assert (await service.get("Alpha")).commit == c2

    events = await drain(service.restore(TAG, saved.id[:13]))
    assert isinstance(events[-1], Finished) and saved.id in events[-1].detail
    assert await tool.freeze(python_of(data_dir)) == packages
    alpha = await service.get("Alpha")
    assert alpha.commit == c1 and alpha.pinned and alpha.enabled_in == (TAG,)
    assert (await service.get("Beta")).enabled_in == ()
    assert own.is_file()
    reasons = [s.reason for s in await service.snapshots.list(TAG)]
    assert reasons[0] == f"before restoring {saved.id}"

    # the newest snapshot undoes the restore
    await drain(service.restore(TAG))
    assert await tool.freeze(python_of(data_dir)) == changed
    assert (await service.get("Beta")).enabled_in == (TAG,)


def break_wheel(path: Path) -> None:
    """Keep the wheel's name and METADATA (uv resolves it) but drop WHEEL (install fails)."""
    with zipfile.ZipFile(path) as whl:
        files = {n: whl.read(n) for n in whl.namelist() if not n.endswith("/WHEEL")}
    with zipfile.ZipFile(path, "w") as whl:
        for name, data in files.items():
            whl.writestr(name, data)


async def test_a_failed_restore_leaves_the_previous_state(
    data_dir: Path,
    tmp_path: Path,
    fake_upstream: Path,
    wheelhouse: Path,
    node_wheels: Path,
    node_mirror: NodeMirror,
) -> None:
    flaky = tmp_path / "flaky-wheels"
    one = build_wheel(flaky, "flaky", "1.0")
    build_wheel(flaky, "flaky", "2.0")
    settings = nodes_settings_for(
        data_dir, fake_upstream, node_mirror, wheelhouse, node_wheels, flaky
    )
    await install_versions(settings, TAG)
    (c1,) = node_mirror.add("Alpha", NodeCommit(requirements="flaky==1.0\nnodedep==1.0\n"))
    service = nodes_service(settings)
    await drain(service.add(node_mirror.url("Alpha")))
    await enable(service, "Alpha")
    saved = await service.snapshots.create(TAG)

    c2 = node_mirror.push("Alpha", NodeCommit(requirements="flaky==2.0\nnodedep==2.0\n"))
    await drain(service.update("Alpha"))
    await enable(service, "Alpha")
    tool = service.snapshots.tool()
    current = await tool.freeze(python_of(data_dir))
    assert "flaky==2.0" in current

    break_wheel(one)  # flaky 1.0 still resolves, but can no longer be installed
    shutil.rmtree(data_dir / "cache" / "uv")
    with pytest.raises(InstallError) as info:
        await drain(service.restore(TAG, saved.id))
    message = str(info.value)
    assert f"restoring snapshot {saved.id} failed" in message
    assert "the previous state was put back" in message and "\n" not in message
    assert await tool.freeze(python_of(data_dir)) == current
    alpha = await service.get("Alpha")
    assert alpha.commit == c2 and alpha.enabled_in == (TAG,)
    assert c1 != c2


async def test_restore_checks_first_and_changes_nothing_when_it_cannot(
    nodes_settings: Settings, node_mirror: NodeMirror, data_dir: Path
) -> None:
    await install_versions(nodes_settings, TAG)
    node_mirror.add("Alpha", NodeCommit(requirements="nodedep==1.0\n"))
    service = nodes_service(nodes_settings)
    await drain(service.add(node_mirror.url("Alpha")))
    await enable(service, "Alpha")
    saved = await service.snapshots.create(TAG)
    c2 = node_mirror.push("Alpha", NodeCommit(message="two", requirements="nodedep==2.0\n"))
    await drain(service.update("Alpha"))
    await enable(service, "Alpha")
    tool = service.snapshots.tool()
    current = await tool.freeze(python_of(data_dir))
    count = len(await service.snapshots.list(TAG))

    checkout = data_dir / "nodes" / "Alpha"
    (checkout / "__init__.py").write_text("# edited by hand\n")
    with pytest.raises(InstallError, match=r"local changes .* nothing changed"):
        await drain(service.restore(TAG, saved.id))
    subprocess.run(["git", "-C", str(checkout), "checkout", "-q", "--", "."], check=True)

    with pytest.raises(VersionInUseError, match=f"cannot restore a snapshot of {TAG}: {TAG} :8188"):
        await drain(nodes_service(nodes_settings, running={TAG: 1}).restore(TAG, saved.id))
    with pytest.raises(NotFoundError, match="no snapshot 1999"):
        await drain(service.restore(TAG, "1999"))
    with pytest.raises(ValidationError):
        service.restore(TAG, "../x")

    assert await tool.freeze(python_of(data_dir)) == current
    assert (await service.get("Alpha")).commit == c2
    assert len(await service.snapshots.list(TAG)) == count


async def test_remove_is_refused_while_a_running_instance_uses_the_node(
    nodes_settings: Settings, node_mirror: NodeMirror, data_dir: Path
) -> None:
    await install_versions(nodes_settings, TAG)
    node_mirror.add("Alpha")
    service = nodes_service(nodes_settings)
    await drain(service.add(node_mirror.url("Alpha")))
    await enable(service, "Alpha")
    service.guard = fake_guard(service.paths, {TAG: 1})
    with pytest.raises(VersionInUseError, match=f"cannot remove Alpha: {TAG} :8188, id fake0"):
        await service.remove("Alpha")
    assert (data_dir / "nodes" / "Alpha").is_dir()

    idle = nodes_service(nodes_settings)
    assert await idle.remove("Alpha") == [TAG]
    assert not (custom_nodes(data_dir) / "Alpha").exists()
    assert [p.name for p in (data_dir / "nodes").iterdir()] == []
    assert (await idle.overview()).nodes == ()
    assert (await idle.snapshots.get(TAG)).reason == "before removing Alpha"
    with pytest.raises(NotFoundError):
        await idle.remove("Alpha")


async def test_disable_and_the_versions_own_nodes(
    nodes_settings: Settings, node_mirror: NodeMirror, data_dir: Path
) -> None:
    await install_versions(nodes_settings, TAG)
    node_mirror.add("Alpha", NodeCommit(requirements="nodedep\n"))
    service = nodes_service(nodes_settings)
    await drain(service.add(node_mirror.url("Alpha")))
    await enable(service, "Alpha")
    folder = custom_nodes(data_dir)
    (folder / "Mine").mkdir()
    (folder / "Mine" / "__init__.py").write_text("")
    (folder / "single.py").write_text("")
    (folder / "old.py.disabled").write_text("")
    (folder / "example_node.py.example").write_text("")

    own = (await service.overview()).own
    assert [(o.tag, o.name, o.kind, o.enabled) for o in own] == [
        (TAG, "Mine", "folder", True),
        (TAG, "old.py.disabled", "file", False),
        (TAG, "single.py", "file", True),
    ]
    before = await service.disable("Alpha", TAG)
    assert before.reason == "before disabling Alpha"
    assert not (folder / "Alpha").exists() and (data_dir / "nodes" / "Alpha").is_dir()
    with pytest.raises(NotFoundError, match="not enabled"):
        await service.disable("Alpha", TAG)
    with pytest.raises(InstallError, match="own node"):
        await service.disable("Mine", TAG)
    (folder / "Alpha").mkdir()  # the version now has its own Alpha: enabling is refused
    plan = await service.plan("Alpha", TAG)
    with pytest.raises(InstallError, match="already exists"):
        await drain(service.enable(plan))
    with pytest.raises(NotFoundError, match="not installed"):
        await service.plan("Alpha", "v9.9.9")
    shutil.rmtree(data_dir / "nodes" / "Alpha")
    with pytest.raises(InstallError, match="checkout of Alpha is missing"):
        await service.plan("Alpha", TAG)

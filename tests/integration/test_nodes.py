"""Shared custom nodes for real: git clones from local bare repos, uv on installed fake versions."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest

from comfy_tui.errors import (
    InstallError,
    LockBusyError,
    NetworkError,
    NotFoundError,
    ValidationError,
)
from comfy_tui.events import Finished, LogLine
from comfy_tui.paths import DataPaths
from comfy_tui.services.flock import AsyncFileLock
from comfy_tui.services.versions import VersionsService
from comfy_tui.settings import Settings
from tests.fakes.node_fixtures import (
    drain,
    install_versions,
    nodes_service,
    nodes_settings_for,
)
from tests.fakes.node_repo import NodeCommit, NodeMirror
from tests.waiting import until

pytestmark = pytest.mark.usefixtures("no_leftover_children")

THING = "ComfyUI-Thing"


def version_python(data_dir: Path, tag: str) -> Path:
    return data_dir / "versions" / tag / ".venv" / "bin" / "python"


def link(data_dir: Path, tag: str, name: str = THING) -> Path:
    return data_dir / "versions" / tag / "custom_nodes" / name


async def freeze(settings: Settings, tag: str) -> tuple[str, ...]:
    service = nodes_service(settings)
    return await service.snapshots.tool().freeze(version_python(settings.data_dir, tag))


async def test_one_node_enabled_in_two_versions(
    nodes_settings: Settings, node_mirror: NodeMirror, data_dir: Path
) -> None:
    await install_versions(nodes_settings, "v0.3.77", "v0.4.0")
    (commit,) = node_mirror.add(THING, NodeCommit(requirements="nodedep==1.0\n"))
    service = nodes_service(nodes_settings)

    events = await drain(service.add(node_mirror.url(THING)))
    assert isinstance(events[-1], Finished) and commit[:12] in events[-1].detail
    checkout = data_dir / "nodes" / THING
    assert (checkout / "__init__.py").is_file()

    for tag in ("v0.3.77", "v0.4.0"):
        plan = await service.plan(THING, tag)
        assert [c.describe() for c in plan.changes] == ["+ nodedep 1.0"]
        assert not plan.blocked and not plan.enabled and plan.commit == commit
        done = await drain(service.enable(plan))
        assert isinstance(done[-1], Finished)
        assert link(data_dir, tag).is_symlink()
        assert link(data_dir, tag).resolve() == checkout.resolve()
        assert not os.path.isabs(os.readlink(link(data_dir, tag)))  # the data dir can move
        assert "nodedep==1.0" in await freeze(nodes_settings, tag)

    overview = await service.overview()
    (info,) = overview.nodes
    assert info.name == THING and info.url == node_mirror.url(THING)
    assert info.enabled_in == ("v0.4.0", "v0.3.77") and info.commit == commit
    assert info.branch == "main" and info.requirements and not info.install_script
    assert overview.versions == ("v0.4.0", "v0.3.77")
    reasons = [s.reason for s in await service.snapshots.list("v0.3.77")]
    assert reasons == [f"before enabling {THING}"]
    again = await service.plan(THING, "v0.3.77")
    assert again.enabled and again.changes == ()


async def test_a_torch_request_is_refused_and_the_venv_is_unchanged(
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
    await install_versions(settings, "v0.3.77")
    node_mirror.add("OldTorch", NodeCommit(requirements="nodedep\ntorch==1.0\n"))
    service = nodes_service(settings)
    await drain(service.add(node_mirror.url("OldTorch")))
    before = await freeze(settings, "v0.3.77")

    plan = await service.plan("OldTorch", "v0.3.77")
    assert plan.blocked
    assert [c.describe() for c in plan.torch_changes] == ["~ torch 2.5.1+cpu → 1.0"]
    with pytest.raises(InstallError, match=r"would change the torch family of v0\.3\.77"):
        service.enable(plan)
    assert await freeze(settings, "v0.3.77") == before
    assert not link(data_dir, "v0.3.77", "OldTorch").exists()

    # without a torch 1.0 anywhere: refused at planning, with uv's reason
    strict = nodes_settings_for(data_dir, fake_upstream, node_mirror, wheelhouse, node_wheels)
    with pytest.raises(InstallError, match=r"asks for a torch build v0\.3\.77 cannot have"):
        await nodes_service(strict).plan("OldTorch", "v0.3.77")
    assert await freeze(settings, "v0.3.77") == before


async def test_a_forced_torch_change_is_applied_and_pinned(
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
    await install_versions(settings, "v0.3.77")
    node_mirror.add("OldTorch", NodeCommit(requirements="torch==1.0\n"))
    service = nodes_service(settings)
    await drain(service.add(node_mirror.url("OldTorch")))
    before = await freeze(settings, "v0.3.77")

    plan = await service.plan("OldTorch", "v0.3.77", force=True)
    assert plan.torch_changes and not plan.blocked
    await drain(service.enable(plan))
    assert "torch==1.0" in await freeze(settings, "v0.3.77")
    constraints = data_dir / "versions" / "v0.3.77" / ".venv" / "comfy-tui-constraints.txt"
    assert "torch==1.0" in constraints.read_text()
    record = await nodes_service(settings).snapshots.get("v0.3.77")
    assert record.reason == "before enabling OldTorch"

    await drain(service.restore("v0.3.77", record.id))
    assert await freeze(settings, "v0.3.77") == before
    assert "torch==2.5.1+cpu" in constraints.read_text()


@pytest.mark.parametrize(
    ("requirements", "error", "needle"),
    [
        ("this is not ==== valid\n", InstallError, "requirements.txt cannot be installed"),
        (
            "nodedep\n--index-url http://evil.example/simple\n",
            ValidationError,
            "line 2: '--index-url http://evil",
        ),
        ("no-such-package-anywhere\n", InstallError, "no-such-package-anywhere"),
    ],
)
async def test_bad_requirements_give_one_clear_error_and_change_nothing(
    nodes_settings: Settings,
    node_mirror: NodeMirror,
    data_dir: Path,
    requirements: str,
    error: type[Exception],
    needle: str,
) -> None:
    await install_versions(nodes_settings, "v0.3.77")
    node_mirror.add("Broken", NodeCommit(requirements=requirements))
    service = nodes_service(nodes_settings)
    await drain(service.add(node_mirror.url("Broken")))
    before = await freeze(nodes_settings, "v0.3.77")
    with pytest.raises(error) as info:
        await service.plan("Broken", "v0.3.77")
    assert needle in str(info.value) and "\n" not in str(info.value)
    assert await freeze(nodes_settings, "v0.3.77") == before
    assert not link(data_dir, "v0.3.77", "Broken").exists()
    assert await service.snapshots.list("v0.3.77") == []


@pytest.mark.slow
async def test_install_script_runs_only_when_confirmed_and_a_failure_puts_the_venv_back(
    nodes_settings: Settings, node_mirror: NodeMirror, data_dir: Path
) -> None:
    await install_versions(nodes_settings, "v0.3.77")
    script = "import pathlib, sys\npathlib.Path('ran.txt').write_text(sys.executable)\n"
    node_mirror.add("Scripted", NodeCommit(requirements="nodedep\n", install_script=script))
    failing = "import sys\nprint('error: cannot build the thing')\nsys.exit(3)\n"
    node_mirror.add("Failing", NodeCommit(requirements="otherdep\n", install_script=failing))
    service = nodes_service(nodes_settings)
    for name in ("Scripted", "Failing"):
        await drain(service.add(node_mirror.url(name)))
    marker = data_dir / "nodes" / "Scripted" / "ran.txt"

    plan = await service.plan("Scripted", "v0.3.77")
    assert plan.install_script
    events = await drain(service.enable(plan))
    assert not marker.exists()
    assert any("install.py was not run" in e.text for e in events if isinstance(e, LogLine))

    await service.disable("Scripted", "v0.3.77")
    plan = await service.plan("Scripted", "v0.3.77")
    await drain(service.enable(plan, run_install_script=True))
    assert marker.read_text() == str(version_python(data_dir, "v0.3.77"))

    before = await freeze(nodes_settings, "v0.3.77")
    plan = await service.plan("Failing", "v0.3.77")
    assert [c.describe() for c in plan.changes] == ["+ otherdep 1.0"]
    with pytest.raises(InstallError, match=r"cannot build the thing.*was put back"):
        await drain(service.enable(plan, run_install_script=True))
    assert await freeze(nodes_settings, "v0.3.77") == before
    assert not link(data_dir, "v0.3.77", "Failing").exists()


async def test_update_fast_forwards_pins_and_refuses_local_changes(
    nodes_settings: Settings, node_mirror: NodeMirror, data_dir: Path
) -> None:
    first, _ = node_mirror.add(THING, NodeCommit(message="one"), NodeCommit(message="two"))
    service = nodes_service(nodes_settings)
    await drain(service.add(node_mirror.url(THING)))
    third = node_mirror.push(THING, NodeCommit(message="three"))

    done = await drain(service.update(THING))
    assert isinstance(done[-1], Finished) and third[:12] in done[-1].detail
    info = await service.get(THING)
    assert info.commit == third and info.branch == "main"

    await drain(service.update(THING, first[:10]))
    info = await service.get(THING)
    assert info.commit == first and info.pinned

    await drain(service.update(THING))  # back on its branch
    assert (await service.get(THING)).commit == third

    (data_dir / "nodes" / THING / "__init__.py").write_text("# my edit\n")
    with pytest.raises(InstallError, match="local changes"):
        await drain(service.update(THING))
    subprocess.run(["git", "-C", str(data_dir / "nodes" / THING), "checkout", "-q", "--", "."],
                   check=True)  # fmt: skip
    with pytest.raises(NotFoundError, match="no commit, tag or branch"):
        await drain(service.update(THING, "deadbeef"))


async def test_add_refuses_bad_urls_and_leaves_nothing_when_the_clone_fails(
    nodes_settings: Settings, node_mirror: NodeMirror, data_dir: Path
) -> None:
    service = nodes_service(nodes_settings)
    for bad in (
        "http://github.com/a/b",
        "file:///srv/x",
        "https://github.com/",
        "https://h/a/..git",
    ):
        with pytest.raises(ValidationError):
            service.add(bad)
    with pytest.raises(NetworkError, match="cannot clone"):
        await drain(service.add(node_mirror.url("Missing")))
    assert [p.name for p in (data_dir / "nodes").iterdir()] == []
    assert (await service.overview()).nodes == ()

    node_mirror.add(THING)
    await drain(service.add(node_mirror.url(THING) + ".git"))
    with pytest.raises(InstallError, match="already added"):
        await drain(service.add(node_mirror.url(THING)))
    async with AsyncFileLock(DataPaths(data_dir).node_lock(THING), timeout=0):
        with pytest.raises(LockBusyError):
            await drain(service.update(THING))


async def test_cancelling_an_enable_puts_the_venv_back_and_links_nothing(
    nodes_settings: Settings, node_mirror: NodeMirror, data_dir: Path
) -> None:
    await install_versions(nodes_settings, "v0.3.77")
    slow = "import pathlib, time\npathlib.Path('started').write_text('')\ntime.sleep(60)\n"
    node_mirror.add("Slow", NodeCommit(requirements="nodedep\n", install_script=slow))
    service = nodes_service(nodes_settings)
    await drain(service.add(node_mirror.url("Slow")))
    before = await freeze(nodes_settings, "v0.3.77")
    plan = await service.plan("Slow", "v0.3.77")
    task = asyncio.create_task(drain(service.enable(plan, run_install_script=True)))
    started = data_dir / "nodes" / "Slow" / "started"
    await until(None, started.exists, "the install script to start")
    assert not any(p.startswith("nodedep") for p in before) and started.exists()
    assert "nodedep==2.0" in await freeze(nodes_settings, "v0.3.77")  # installed, then
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await freeze(nodes_settings, "v0.3.77") == before
    assert not link(data_dir, "v0.3.77", "Slow").exists()


async def test_removing_a_version_keeps_the_shared_checkout(
    nodes_settings: Settings, node_mirror: NodeMirror, data_dir: Path
) -> None:
    await install_versions(nodes_settings, "v0.3.77", "v0.4.0")
    node_mirror.add(THING)
    service = nodes_service(nodes_settings)
    await drain(service.add(node_mirror.url(THING)))
    for tag in ("v0.3.77", "v0.4.0"):
        await drain(service.enable(await service.plan(THING, tag)))
    versions = VersionsService(nodes_settings, DataPaths(data_dir), guard=service.guard)
    await versions.remove("v0.3.77")
    assert (data_dir / "nodes" / THING / "__init__.py").is_file()
    assert (await service.get(THING)).enabled_in == ("v0.4.0",)

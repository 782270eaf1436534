"""The guard table through the TUI (Pilot): each destructive operation x {nothing running, an
instance running, an instance starting}, against real processes of the fake ComfyUI.

With a live instance of the version, a node change or snapshot restore is refused at once with
an error dialog naming the instance and the way out, and never asks "are you sure?" first;
removing the version asks one question that offers the way out ("v0.4.0 is running on :8188
(c1) — stop it and remove?"). With nothing running, the usual question (or review) comes up.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Label, Static

from comfy_tui.events import Finished
from comfy_tui.paths import DataPaths
from comfy_tui.services.container import Services, build_instances
from comfy_tui.services.instances.launch import LaunchRequest
from comfy_tui.settings import Settings
from comfy_tui.store.instance_records import InstanceRecord, require_instance
from comfy_tui.ui.app import ComfyTuiApp
from comfy_tui.ui.dialogs.confirm import ConfirmScreen
from comfy_tui.ui.dialogs.envsnaps import SnapshotsScreen
from comfy_tui.ui.dialogs.error import ErrorScreen
from comfy_tui.ui.dialogs.pick import PickScreen
from comfy_tui.ui.dialogs.review import ReviewScreen
from comfy_tui.ui.screens.nodes import NodesScreen
from comfy_tui.ui.screens.versions import VersionsScreen
from comfy_tui.ui.widgets.node_table import NodeTable
from comfy_tui.ui.widgets.version_table import VersionTable
from tests.fakes.installed_version import install_fake_version
from tests.fakes.instance_lab import free_port, stop_everything
from tests.ui.app_factory import LARGE, OFFLINE_GITHUB, SMALL
from tests.ui.nodes_lab import nodes_app, write_snapshots
from tests.ui.versions_lab import versions_app
from tests.waiting import until

TAG = "v0.4.0"  # the first version of nodes_lab's overview: pickers open on it
STATES = ["idle", "running", "starting"]


@pytest.fixture
async def instance(request: pytest.FixtureRequest, data_dir: Path) -> AsyncIterator[Any]:
    """Nothing, or a real instance of TAG that is running or still starting."""
    install_fake_version(DataPaths(data_dir), TAG)
    write_snapshots(data_dir, TAG)
    state = request.param
    record: InstanceRecord | None = None
    try:
        if state != "idle":
            settings = Settings(data_dir=data_dir, base_port=free_port(), ready_timeout=30.0)
            instances = build_instances(Services(settings), gpu_count=lambda: 0)
            env = {"FAKE_COMFYUI_STARTUP_DELAY": "300"} if state == "starting" else {}
            record = await instances.start(LaunchRequest(TAG, env=env))
            if state == "running":
                events = [e async for e in instances.wait_ready(record.id)]
                assert isinstance(events[-1], Finished)
            record = require_instance(instances.paths, record.id)
            assert record.state == state
        yield record
    finally:
        await stop_everything(data_dir)


async def answer(pilot: Pilot[Any], record: InstanceRecord | None, asked: type) -> None:
    """The refusal naming `record` (then closed), or, with nothing live, the `asked` dialog."""
    app = pilot.app
    wanted = asked if record is None else ErrorScreen
    await until(pilot, lambda: isinstance(app.screen, (ErrorScreen, asked)), wanted.__name__)
    screen = app.screen
    if record is None:
        assert isinstance(screen, asked), screen
    else:
        assert isinstance(screen, ErrorScreen), screen
        message = str(screen.query_one("#error-message", Static).render())
        assert f"{TAG} :{record.port}, id {record.id} is {record.state}" in message
        assert f"comfy-tui stop {record.id}" in message and "Instances screen" in message
    await pilot.press("escape")
    await until(pilot, lambda: not isinstance(app.screen, (ErrorScreen, asked)), "it closed")


async def pick_first(pilot: Pilot[Any]) -> None:
    await until(pilot, lambda: isinstance(pilot.app.screen, PickScreen), "the version picker")
    await pilot.press("enter")


async def on_node(pilot: Pilot[Any], name: str) -> None:
    await until(pilot, lambda: isinstance(pilot.app.screen, NodesScreen), "the Nodes screen")
    table = pilot.app.screen.query_one(NodeTable)
    await until(pilot, lambda: name in table.by_name, name)
    table.move_cursor(row=table.get_row_index(name))
    await pilot.pause()


Step = Callable[[Pilot[Any], InstanceRecord | None], Awaitable[None]]


async def enable(pilot: Pilot[Any], record: InstanceRecord | None) -> None:
    await on_node(pilot, "ComfyUI-KJNodes")
    await pilot.press("e")
    await pick_first(pilot)
    await answer(pilot, record, ReviewScreen)  # the uv plan is reviewed only when allowed


async def disable(pilot: Pilot[Any], record: InstanceRecord | None) -> None:
    await on_node(pilot, "ComfyUI-Impact-Pack")
    await pilot.press("x")
    await pick_first(pilot)
    await answer(pilot, record, ErrorScreen)  # idle: the real service finds no link


async def remove(pilot: Pilot[Any], record: InstanceRecord | None) -> None:
    await on_node(pilot, "ComfyUI-Impact-Pack")
    await pilot.press("d")
    await answer(pilot, record, ConfirmScreen)


async def update(pilot: Pilot[Any], record: InstanceRecord | None) -> None:
    await on_node(pilot, "ComfyUI-Impact-Pack")
    await pilot.press("u")
    await answer(pilot, record, ErrorScreen)  # idle: the job runs (and fails: no checkout)


async def restore(pilot: Pilot[Any], record: InstanceRecord | None) -> None:
    await on_node(pilot, "ComfyUI-Impact-Pack")
    await pilot.press("s")
    await pick_first(pilot)
    await until(pilot, lambda: isinstance(pilot.app.screen, SnapshotsScreen), "the snapshots")
    await pilot.press("enter")
    await answer(pilot, record, ReviewScreen)


NODE_STEPS: dict[str, Step] = {
    "enable": enable,
    "disable": disable,
    "remove": remove,
    "update": update,
    "restore": restore,
}


async def run_nodes_app(app: ComfyTuiApp, steps: list[Step], record: Any) -> None:
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("5")
        for step in steps:
            await step(pilot, record)


@pytest.mark.parametrize("instance", STATES, indirect=True)
async def test_node_changes_are_refused_before_any_question(
    data_dir: Path, instance: InstanceRecord | None
) -> None:
    await run_nodes_app(nodes_app(data_dir), list(NODE_STEPS.values()), instance)
    assert (data_dir / "versions" / TAG).is_dir()


async def on_version(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, VersionsScreen), "Versions")
    table = app.screen.query_one(VersionTable)
    await until(pilot, lambda: TAG in table.rows_by_tag, TAG)
    table.move_cursor(row=table.get_row_index(TAG))
    await pilot.pause()


def question(app: ComfyTuiApp) -> str:
    return str(app.screen.query_one("#confirm-question", Label).render())


@pytest.mark.parametrize("instance", STATES, indirect=True)
async def test_removing_a_running_version_offers_to_stop_it_first(
    data_dir: Path, instance: InstanceRecord | None
) -> None:
    """One question, and it names the instance and offers the way out: no "are you sure?"
    followed by a refusal. "Keep" changes nothing."""
    app = versions_app(data_dir, OFFLINE_GITHUB)
    async with app.run_test(size=SMALL) as pilot:
        await on_version(pilot)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the one question")
        if instance is None:
            assert question(app).startswith(f"Remove ComfyUI {TAG}?")
        else:
            expected = f"{TAG} is {instance.state} on :{instance.port} ({instance.id}) — "
            assert question(app) == f"{expected}stop it and remove?"
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, VersionsScreen), "closed")
    assert (data_dir / "versions" / TAG).is_dir()
    if instance is not None:
        assert require_instance(DataPaths(data_dir), instance.id).live


@pytest.mark.parametrize("instance", ["running"], indirect=True)
async def test_stop_it_and_remove_stops_the_instance_then_removes(
    data_dir: Path, instance: InstanceRecord
) -> None:
    app = versions_app(data_dir, OFFLINE_GITHUB)
    async with app.run_test(size=SMALL) as pilot:
        await on_version(pilot)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the one question")
        assert "stop it and remove?" in question(app)
        await pilot.press("y")
        await until(pilot, lambda: not (data_dir / "versions" / TAG).exists(), "removed")
        assert isinstance(app.screen, VersionsScreen), "no error dialog, no second question"
    assert not require_instance(DataPaths(data_dir), instance.id).live

"""The upgrade dialog (`u` on Versions): a real rehearsal with a real node and a switch, and
snapshots of the form, the consent question and the per-node results (fixed, fake data)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, DataTable, Input
from textual.worker import WorkerCancelled, WorkerFailed

from comfy_tui.events import Event
from comfy_tui.paths import DataPaths
from comfy_tui.services.github import GitHubReleases
from comfy_tui.services.lifecycle.rehearsal import NodeResult, Rehearsal
from comfy_tui.settings import Settings
from comfy_tui.store.version_records import get_default
from comfy_tui.ui.dialogs.confirm import ConfirmScreen
from comfy_tui.ui.dialogs.upgrade import UpgradeScreen
from comfy_tui.ui.widgets.version_table import VersionTable
from tests.fakes.fake_github import FakeGitHub, ThreadedFakeGitHub
from tests.fakes.node_fixtures import drain, install_versions, nodes_service, nodes_settings_for
from tests.fakes.node_repo import NodeCommit, NodeMirror
from tests.ui.app_factory import LARGE, SMALL, make_test_app
from tests.ui.versions_lab import RELEASES, T0, no_sleep, settle
from tests.waiting import until

SIZES = {"80x24": SMALL, "120x40": LARGE}


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with ThreadedFakeGitHub(FakeGitHub(releases=list(RELEASES))) as fake:
        yield fake


async def wait_workers(pilot: Pilot[Any], screen: Any, group: str) -> None:
    for _ in range(3):
        for worker in list(screen.workers):
            if worker.group == group:
                with contextlib.suppress(WorkerCancelled, WorkerFailed):
                    await worker.wait()
        await pilot.pause()


async def open_upgrade(pilot: Pilot[Any], tag: str) -> UpgradeScreen:
    await settle(pilot)
    table = pilot.app.screen.query_one(VersionTable)
    table.move_cursor(row=table.get_row_index(tag))
    await pilot.pause()
    await pilot.press("u")
    await until(pilot, lambda: isinstance(pilot.app.screen, UpgradeScreen), "the upgrade dialog")
    assert isinstance(pilot.app.screen, UpgradeScreen)
    return pilot.app.screen


@pytest.mark.slow
async def test_rehearse_then_switch_from_the_versions_screen(
    data_dir: Path,
    github: FakeGitHub,
    fake_upstream: Path,
    wheelhouse: Path,
    node_wheels: Path,
    node_mirror: NodeMirror,
) -> None:
    node_mirror.add("Solid", NodeCommit(files={"__init__.py": "NODE_CLASS_MAPPINGS = {}\n"}))
    settings = nodes_settings_for(data_dir, fake_upstream, node_mirror, wheelhouse, node_wheels)
    await install_versions(settings, "v0.3.77", "v0.4.0")
    nodes = nodes_service(settings)
    await drain(nodes.add(NodeMirror.url("Solid")))
    await drain(nodes.enable(await nodes.plan("Solid", "v0.3.77")))

    def releases(s: Settings, services: Any) -> GitHubReleases:
        return GitHubReleases(s, services.paths, clock=lambda: T0, sleep=no_sleep)

    values = {
        name: getattr(settings, name)
        for name in ("comfyui_repo", "find_links", "python", "nodes_mirror")
    }
    app = make_test_app(data_dir, settings={"github_api": github.url, **values}, releases=releases)
    async with app.run_test(size=LARGE) as pilot:
        dialog = await open_upgrade(pilot, "v0.3.77")
        offered = dialog.query_one("#upgrade-to", Input).value  # the newest newer release
        listed = app.screen_stack[-2].query_one(VersionTable).rows_by_tag
        assert offered in listed and offered not in ("", "v0.3.77", "v0.4.0-rc1")
        dialog.query_one("#upgrade-to", Input).value = "v0.4.0"
        await pilot.press("enter")
        await wait_workers(pilot, dialog, "upgrade")
        table = dialog.query_one("#upgrade-nodes", DataTable)
        assert table.get_row("Solid")[2] == "loaded"
        assert dialog.state == "result"
        await pilot.press("s")
        for _ in range(100):
            await pilot.pause()
            if isinstance(app.screen, ConfirmScreen):
                break
        await pilot.press("y")
        await pilot.pause()
        await wait_workers(pilot, dialog, "upgrade")
        assert dialog.state == "switched"
        assert get_default(DataPaths(data_dir)) == "v0.4.0"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, UpgradeScreen)
        await settle(pilot)  # the screen reloads its versions
        table = app.screen.query_one(VersionTable)
        table.move_cursor(row=table.get_row_index("v0.3.77"))
        await app.screen.action_details().wait()  # type: ignore[attr-defined]
        await pilot.pause()
        details = dict(app.screen.lines)  # type: ignore[attr-defined]
        assert details["Newer"].startswith("v0.5.0, v0.4.0 in the mirror")
        await pilot.press("escape")


REPORT = Rehearsal(
    "v0.3.77",
    "v0.4.0",
    installed_target=True,
    nodes=[
        NodeResult("ComfyUI-GGUF", "4d5e6f7a8b9c0d1e", "loaded"),
        NodeResult(
            "ComfyUI-Impact-Pack",
            "aa11bb22cc33dd44",
            "import failed",
            "cannot import name 'MAX_RESOLUTION' from 'nodes'",
        ),
        NodeResult("was-node-suite", "0f0f0f0f0f0f", "missing dependency", "No module named 'cv2'"),
    ],
    own_nodes=["my_hack.py"],
    checked="quick test",
)
GOOD = Rehearsal(
    "v0.3.77",
    "v0.4.0",
    nodes=[NodeResult("ComfyUI-GGUF", "4d5e6f7a8b9c0d1e", "loaded")],
    checked="quick test",
)


def _never(*args: Any) -> Any:
    raise AssertionError("not in a snapshot")


async def _no_events(*args: Any) -> AsyncGenerator[Event, None]:
    return
    yield


def dialog_app(data_dir: Path, github: FakeGitHub) -> Any:
    """An offline app (the release list keeps "checking"): a still screen behind the dialog."""
    return make_test_app(data_dir)


async def push(pilot: Pilot[Any]) -> UpgradeScreen:
    for _ in range(3):
        await pilot.pause()
    dialog = UpgradeScreen("v0.3.77", suggested="v0.4.0", running=2, make=_never, switch=_no_events)
    await pilot.app.push_screen(dialog)
    await pilot.pause()
    return dialog


@pytest.mark.parametrize("size", SIZES)
def test_upgrade_form_snapshot(
    snap_compare: Any, data_dir: Path, github: FakeGitHub, size: str
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await push(pilot)

    assert snap_compare(
        dialog_app(data_dir, github), run_before=run_before, terminal_size=SIZES[size]
    )


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("report", ["failed", "ok"])
def test_upgrade_result_snapshot(
    snap_compare: Any, data_dir: Path, github: FakeGitHub, size: str, report: str
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        dialog = await push(pilot)
        dialog.show_report(REPORT if report == "failed" else GOOD)
        await pilot.pause()

    assert snap_compare(
        dialog_app(data_dir, github), run_before=run_before, terminal_size=SIZES[size]
    )


class RecordingUpgrade:
    """The rehearsal's edge for the dialog: records what `plans` was allowed, finds no nodes."""

    def __init__(self, source: str, target: str) -> None:
        self.target = target
        self.report = Rehearsal(source, target, checked="quick test")
        self.allowed: dict[str, bool] | None = None

    async def prepare(self) -> AsyncGenerator[Event, None]:
        return
        yield

    async def plans(self, *, allow_direct_refs: bool = False, allow_builds: bool = False) -> list:
        self.allowed = {"allow_direct_refs": allow_direct_refs, "allow_builds": allow_builds}
        return []

    async def apply(self, plans: list, *, agreed: bool) -> AsyncGenerator[Event, None]:
        return
        yield

    async def check(self) -> AsyncGenerator[Event, None]:
        return
        yield


@pytest.mark.parametrize(
    "ticked", [(), ("upgrade-builds",), ("upgrade-builds", "upgrade-direct-refs")]
)
async def test_the_upgrade_consents_reach_the_plans_at_80x24(
    data_dir: Path, ticked: tuple[str, ...]
) -> None:
    """`upgrade FROM TO --build-from-source --allow-direct-refs`: the form's checkboxes, ticked
    with tab and space as a user does, are what the node plans are made with."""
    made: list[RecordingUpgrade] = []

    def make(source: str, target: str) -> Any:
        made.append(RecordingUpgrade(source, target))
        return made[-1]

    app = make_test_app(data_dir)
    async with app.run_test(size=SMALL) as pilot:
        dialog = UpgradeScreen("v0.3.77", suggested="v0.4.0", running=0, make=make,
                               switch=_no_events)  # fmt: skip
        await app.push_screen(dialog)
        await pilot.pause()
        for box in ticked:
            dialog.query_one(f"#{box}", Checkbox).focus()
            await pilot.press("space")
        dialog.query_one("#upgrade-to", Input).focus()
        await pilot.press("enter")
        await wait_workers(pilot, dialog, "upgrade")
        assert dialog.state == "result"
        assert made[0].allowed == {
            "allow_builds": "upgrade-builds" in ticked,
            "allow_direct_refs": "upgrade-direct-refs" in ticked,
        }

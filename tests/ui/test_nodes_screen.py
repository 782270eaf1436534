"""The Nodes screen with the real services: add from a local node mirror, enable after the
review, disable, snapshots (take, restore), remove; failures reach the error dialog."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from comfy_tui.events import Event, Finished
from comfy_tui.runner import JobKey, JobKind
from comfy_tui.settings import Settings
from comfy_tui.ui.app import ComfyTuiApp
from comfy_tui.ui.dialogs.confirm import ConfirmScreen
from comfy_tui.ui.dialogs.envsnaps import SnapshotsScreen
from comfy_tui.ui.dialogs.error import ErrorScreen
from comfy_tui.ui.dialogs.review import ReviewScreen
from comfy_tui.ui.dialogs.text_input import TextInputScreen
from comfy_tui.ui.screens.nodes import NodesScreen
from comfy_tui.ui.widgets.node_table import NodeTable
from tests.fakes.node_fixtures import drain, install_versions, nodes_service
from tests.fakes.node_repo import NodeCommit, NodeMirror
from tests.fakes.sdist import build_marker_sdist
from tests.ui.app_factory import LARGE, make_test_app
from tests.ui.nodes_lab import settle
from tests.waiting import until

TAG = "v0.3.77"


def real_app(settings: Settings) -> ComfyTuiApp:
    overrides = {
        "comfyui_repo": settings.comfyui_repo,
        "find_links": settings.find_links,
        "python": settings.python,
        "nodes_mirror": settings.nodes_mirror,
    }
    return make_test_app(settings.data_dir, settings=overrides)


async def until_screen(pilot: Pilot[Any], kind: type, what: str) -> Any:
    await until(pilot, lambda: isinstance(pilot.app.screen, kind), what)
    return pilot.app.screen


async def jobs_done(pilot: Pilot[Any], app: ComfyTuiApp, what: str) -> None:
    await until(pilot, lambda: not app.running_jobs(), what)
    await settle(pilot)


@pytest.mark.slow
async def test_add_enable_disable_snapshot_restore_remove(
    nodes_settings: Settings, node_mirror: NodeMirror, data_dir: Path
) -> None:
    await install_versions(nodes_settings, TAG)
    script = "import pathlib\npathlib.Path('ran.txt').write_text('yes')\n"
    node_mirror.add("Thing", NodeCommit(requirements="nodedep==1.0\n", install_script=script))
    link = data_dir / "versions" / TAG / "custom_nodes" / "Thing"
    app = real_app(nodes_settings)
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("5")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, NodesScreen)

        await pilot.press("a")
        dialog = await until_screen(pilot, TextInputScreen, "the URL dialog")
        dialog.query_one(Input).value = node_mirror.url("Thing")
        await pilot.press("enter")
        await jobs_done(pilot, app, "the clone")
        table = screen.query_one(NodeTable)
        assert list(table.by_name) == ["Thing"]

        await pilot.press("e")  # one version installed: no picker
        review = await until_screen(pilot, ReviewScreen, "the review")
        assert "+ nodedep 1.0" in review._lines
        await pilot.press("y")
        script_question = await until_screen(pilot, ReviewScreen, "the install.py question")
        assert script_question is not review
        await pilot.press("n")
        await jobs_done(pilot, app, "the enable job")
        assert link.is_symlink()
        assert not (data_dir / "nodes" / "Thing" / "ran.txt").exists()
        assert table.by_name["Thing"].enabled_in == (TAG,)

        await pilot.press("x")
        await until(pilot, lambda: not link.is_symlink(), "the link to go")
        await settle(pilot)

        await pilot.press("s")
        snapshots = await until_screen(pilot, SnapshotsScreen, "the snapshots")
        reasons = [s.reason for s in snapshots._snapshots]
        assert reasons == ["before disabling Thing", "before enabling Thing"]
        await pilot.press("enter")  # the newest: enabled, before disabling
        await until_screen(pilot, ReviewScreen, "the restore review")
        await pilot.press("y")
        await jobs_done(pilot, app, "the restore")
        assert link.is_symlink()

        await pilot.press("d")
        await until_screen(pilot, ConfirmScreen, "the remove question")
        await pilot.press("y")
        await until(pilot, lambda: not (data_dir / "nodes" / "Thing").exists(), "the removal")
        await settle(pilot)
        assert not link.exists() and not table.by_name


@pytest.mark.slow
async def test_refused_lines_and_source_builds_each_need_a_yes_that_saw_them(
    nodes_settings: Settings, node_mirror: NodeMirror, data_dir: Path, tmp_path: Path
) -> None:
    await install_versions(nodes_settings, TAG)
    marker = tmp_path / "MARKER"
    line = f"evilpkg @ {build_marker_sdist(tmp_path / 'sdists', 'evilpkg', '1.0', marker).as_uri()}"
    node_mirror.add("Evil", NodeCommit(requirements=f"{line}\n"))
    service = nodes_service(nodes_settings)
    await drain(service.add(node_mirror.url("Evil")))
    link = data_dir / "versions" / TAG / "custom_nodes" / "Evil"
    app = real_app(nodes_settings)
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("5")
        await settle(pilot)
        for answers in (["n"], ["y", "n"]):  # refuse the line; then accept it, refuse the build
            await pilot.press("e")
            lines = await until_screen(pilot, ReviewScreen, "the refused lines")
            assert f"Evil/requirements.txt line 1: {line}" in lines._lines and lines._danger
            await pilot.press(answers[0])
            if len(answers) > 1:
                build = await until_screen(pilot, ReviewScreen, "the build question")
                assert build is not lines
                assert "evilpkg: would build from source (runs its setup code)" in build._lines
                await pilot.press(answers[1])
            await settle(pilot)
            assert not marker.exists() and not link.exists() and not app.running_jobs()

        await pilot.press("e")
        await until_screen(pilot, ReviewScreen, "the refused lines")
        await pilot.press("y")
        build = await until_screen(pilot, ReviewScreen, "the build question")
        await pilot.press("y")
        await until(
            pilot, lambda: app.screen is not build and isinstance(app.screen, ReviewScreen), "plan"
        )
        assert marker.exists()  # the user agreed to the build: the plan built it
        assert any("+ evilpkg" in text for text in app.screen._lines)
        await pilot.press("y")
        await jobs_done(pilot, app, "the enable job")
        assert link.is_symlink()


async def test_a_failing_job_opens_the_error_dialog_and_bad_urls_are_refused(
    nodes_settings: Settings, node_mirror: NodeMirror, data_dir: Path
) -> None:
    app = real_app(nodes_settings)
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("5")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, NodesScreen)
        screen.start_add("http://github.com/example/Thing")
        await pilot.pause()
        assert not app.running_jobs() and not screen.jobs

        screen.start_add(node_mirror.url("NotThere"))
        error = await until_screen(pilot, ErrorScreen, "the error dialog")
        assert "cannot clone" in error.report.message
        await pilot.press("escape")
        await settle(pilot)
        assert not screen.jobs and not screen.query_one(NodeTable).by_name
        assert list((data_dir / "nodes").iterdir()) == []
        assert not screen.query_one(DataTable).display

        gate = asyncio.Event()

        async def waits() -> AsyncIterator[Event]:
            await gate.wait()
            yield Finished("done")

        key = JobKey(JobKind.NODE_UPDATE, "X")
        assert screen.start_job(key, "update X", waits)
        assert not screen.start_job(key, "update X", waits)  # not cancelled
        assert [w.name for w in app.running_jobs()] == [str(key)]
        gate.set()
        await jobs_done(pilot, app, "the job")
        assert not screen.jobs


@pytest.mark.slow
async def test_update_reviews_the_new_requirements_in_each_version(
    nodes_settings: Settings, node_mirror: NodeMirror, data_dir: Path
) -> None:
    await install_versions(nodes_settings, TAG)
    node_mirror.add("Thing", NodeCommit(requirements="nodedep==1.0\n"))
    service = nodes_service(nodes_settings)
    await drain(service.add(node_mirror.url("Thing")))
    await drain(service.enable(await service.plan("Thing", TAG)))
    new = node_mirror.push("Thing", NodeCommit(requirements="nodedep==2.0\n"))
    app = real_app(nodes_settings)
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("5")
        await settle(pilot)
        await pilot.press("u")
        review = await until_screen(pilot, ReviewScreen, "the review after the update")
        assert review._lines == ["~ nodedep 1.0 → 2.0"]
        assert review._title == f"Update Thing in {TAG}"
        await pilot.press("y")
        await jobs_done(pilot, app, "the requirements")
        table = app.screen.query_one(NodeTable)
        assert table.by_name["Thing"].commit == new
    packages = await service.snapshots.tool().freeze(
        data_dir / "versions" / TAG / ".venv" / "bin" / "python"
    )
    assert "nodedep==2.0" in packages


async def test_pin_checks_out_the_commit_typed_and_keeps_a_bad_one(
    nodes_settings: Settings, node_mirror: NodeMirror, data_dir: Path
) -> None:
    """`U` is `nodes update NAME --commit REF`: the ref is checked under the field (the dialog
    stays with the text), then the node is checked out at it."""
    from tests.ui.app_factory import SMALL

    (first,) = node_mirror.add("Thing", NodeCommit(requirements="nodedep==1.0\n"))
    service = nodes_service(nodes_settings)
    await drain(service.add(node_mirror.url("Thing")))
    newest = node_mirror.push("Thing", NodeCommit(requirements="nodedep==2.0\n"))
    await drain(service.update("Thing"))
    app = real_app(nodes_settings)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("5")
        await settle(pilot)
        table = app.screen.query_one(NodeTable)
        assert table.by_name["Thing"].commit == newest
        await pilot.press("U")
        dialog = await until_screen(pilot, TextInputScreen, "the ref dialog")
        await pilot.press(*"-x", "enter")
        assert app.screen is dialog and dialog.query_one(Input).value == "-x"
        assert str(dialog.query_one("#input-error").render())
        dialog.query_one(Input).value = first
        await pilot.press("enter")
        await jobs_done(pilot, app, "the checkout")
        assert app.screen.query_one(NodeTable).by_name["Thing"].commit == first

"""What the CLI can do, done from the TUI at 80x24 (docs/architecture.md "CLI ↔ TUI"): the
instance commands (`free`, `run`, `outputs`, `stop --all`, `stop TAG`, `up`) on a real fake
ComfyUI, `update`/`rollback`/`audit` on Versions, `trash empty`, and `config`/`autostart`
from the palette. Each one through the key a user presses, at the small size."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Checkbox, DataTable, Input

from comfy_tui.paths import DataPaths
from comfy_tui.store.instance_records import load_instance
from comfy_tui.ui.app import ComfyTuiApp
from comfy_tui.ui.dialogs.confirm import ConfirmScreen
from comfy_tui.ui.dialogs.error import ErrorScreen
from comfy_tui.ui.dialogs.launch import LaunchScreen
from comfy_tui.ui.dialogs.report import ReportScreen
from comfy_tui.ui.dialogs.text_input import TextInputScreen
from comfy_tui.ui.screens.instances import InstancesScreen
from tests.fakes.instance_lab import stop_everything
from tests.fakes.workflows import txt2img
from tests.ui.app_factory import SMALL
from tests.ui.instances_lab import real_app
from tests.waiting import until


@pytest.fixture
async def data_dir_cleaned(tmp_path: Path) -> AsyncIterator[Path]:
    root = tmp_path / "data"
    yield root
    await stop_everything(root)


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A folder with a short absolute path: the dialogs are typed key by key, and Pilot waits
    for the app to go idle after every key (a pytest tmp_path is some 80 keys long)."""
    path = Path(tempfile.mkdtemp(prefix="cp-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def noted(app: ComfyTuiApp, text: str) -> bool:
    return any(text in str(n.message) for n in app._notifications)


def wanted(data_dir: Path, instance_id: str) -> bool:
    found = load_instance(DataPaths(data_dir), instance_id)
    return found is not None and found.wanted


def states(app: ComfyTuiApp) -> list[str]:
    table = app.screen.query_one(DataTable)
    return [str(table.get_row_at(i)[4]) for i in range(table.row_count)]


async def launch_one(pilot: Pilot[Any]) -> None:
    app = pilot.app
    await pilot.press("4", "l")
    await until(pilot, lambda: isinstance(app.screen, LaunchScreen), "the launch dialog")
    app.screen.query_one("#launch-port", Input).focus()
    await pilot.press("enter")  # enter in a field launches
    await until(pilot, lambda: isinstance(app.screen, InstancesScreen), "back")
    await until(pilot, lambda: states(app) == ["running"], "running")


async def palette(pilot: Pilot[Any], query: str, title: str) -> None:
    """Run the palette's command whose title starts with `title`, found by typing `query`."""
    from textual.command import CommandList

    await pilot.press("ctrl+p")
    await pilot.press(*query)
    hits = pilot.app.screen.query_one(CommandList)

    def found() -> bool:
        return bool(hits.option_count) and str(hits.get_option_at_index(0).prompt).startswith(title)

    await until(pilot, found, title)  # the palette searches in a worker
    await pilot.press("enter")


async def type_into(pilot: Pilot[Any], text: str) -> None:
    """Type into the dialog's field key by key, as a user does (letters go to the field)."""
    await until(pilot, lambda: isinstance(pilot.app.screen, TextInputScreen), "the text dialog")
    await pilot.press(*text, "enter")


async def test_free_run_outputs_stop_all_and_up_from_the_instances_screen(
    data_dir_cleaned: Path, short_dir: Path
) -> None:
    flow = short_dir / "flow_api.json"
    flow.write_text(json.dumps(txt2img(steps=2, prefix="parity")))
    app = real_app(data_dir_cleaned)
    async with app.run_test(size=SMALL) as pilot:
        await launch_one(pilot)
        screen = app.screen
        assert isinstance(screen, InstancesScreen)
        record = screen.views[0].record

        await pilot.press("f")  # comfy-tui free
        await until(pilot, lambda: noted(app, "free memory"), "free's answer")

        await pilot.press("w")  # comfy-tui run WORKFLOW
        await type_into(pilot, str(flow))
        await until(pilot, lambda: noted(app, f"on {record.id}"), "queued")
        await until(  # the jobs watcher sees it finish (its outputs are then known)
            pilot,
            lambda: (job := screen.job_of(screen.views[0])) is not None and job.last is not None,
            "the prompt finished",
        )

        out = short_dir / "renders"
        await pilot.press("O")  # comfy-tui outputs ID PROMPT --to DIR (the last prompt)
        await type_into(pilot, str(out))
        await until(pilot, lambda: noted(app, f"copied into {out}"), "outputs copied")
        assert any(out.iterdir())

        # `stop ID --keep-wanted` (the autostart unit's shutdown): `x`, tick the option, `y`;
        # then `up` starts what is wanted and down, on its own port
        await pilot.press("x")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        option = app.screen.query_one("#confirm-option", Checkbox)
        assert "--keep-wanted" in str(option.label) and not option.value
        option.focus()
        await pilot.press("space", "y")
        await until(pilot, lambda: states(app) == ["exited"], "stopped, still wanted")
        assert wanted(data_dir_cleaned, record.id)
        await pilot.press("u")
        await until(pilot, lambda: "running" in states(app), "up started it again")
        again = next(v for v in screen.views if v.record.live).record
        assert again.port == record.port and again.pid != record.pid

        await pilot.press("X")  # comfy-tui stop --all
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("y")
        await until(pilot, lambda: set(states(app)) == {"exited"}, "stopped")
        assert await app.services.instances.running_versions() == {}
        assert not wanted(data_dir_cleaned, again.id)  # the option was not ticked this time


async def test_stop_every_instance_of_a_version_from_the_palette(data_dir_cleaned: Path) -> None:
    app = real_app(data_dir_cleaned)
    async with app.run_test(size=SMALL) as pilot:
        await launch_one(pilot)
        await palette(pilot, "Stop every instance of v0.3.77", "Stop every instance of v0.3.77")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("y")
        await until(pilot, lambda: states(app) == ["exited"], "stopped")


async def test_trash_empty_asks_then_deletes(tmp_path: Path) -> None:
    from comfy_tui.ui.dialogs.trash import TrashScreen
    from tests.ui.app_factory import make_test_app
    from tests.ui.trash_lab import fill_trash, pinned_trash

    fill_trash(tmp_path)
    app = make_test_app(tmp_path, services=pinned_trash)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("2", "t")

        await until(pilot, lambda: isinstance(app.screen, TrashScreen), "the trash")
        trash = app.screen
        assert isinstance(trash, TrashScreen)
        await until(pilot, lambda: bool(trash.items), "its entries")
        await pilot.press("E")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("n")
        await until(pilot, lambda: app.screen is trash, "kept")
        assert trash.items
        await pilot.press("E")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("y")
        await until(pilot, lambda: app.screen is trash and not trash.items, "emptied")
    assert await app.services.trash.items() == []


async def test_settings_and_autostart_status_from_the_palette(tmp_path: Path) -> None:
    from tests.ui.app_factory import make_test_app

    app = make_test_app(tmp_path / "data")
    async with app.run_test(size=SMALL) as pilot:
        for query, title, expect in (
            ("Settings: the effective", "Settings", "base_port = "),
            ("Autostart status", "Autostart status", "autostart"),
        ):
            await palette(pilot, query, title)
            await until(pilot, lambda: isinstance(app.screen, ReportScreen), title)
            report = app.screen
            assert isinstance(report, ReportScreen)
            assert any(expect in line for line in report.lines), report.lines
            await pilot.press("escape")
            await until(pilot, lambda: not isinstance(app.screen, ReportScreen), "closed")


async def test_update_asks_for_a_ref_and_keeps_a_bad_one(tmp_path: Path) -> None:
    from comfy_tui.runner import JobKey, JobKind
    from comfy_tui.ui.screens.versions import VersionsScreen
    from comfy_tui.ui.widgets.version_table import VersionTable
    from tests.ui.app_factory import OFFLINE_GITHUB
    from tests.ui.versions_lab import add_record, versions_app

    add_record(tmp_path, "v0.3.77")
    app = versions_app(tmp_path, OFFLINE_GITHUB)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: isinstance(app.screen, VersionsScreen), "Versions")
        table = app.screen.query_one(VersionTable)
        await until(pilot, lambda: "v0.3.77" in table.rows_by_tag, "the version")
        table.move_cursor(row=table.get_row_index("v0.3.77"))
        await pilot.pause()
        await pilot.press("U")
        await type_into(pilot, "..bad")
        dialog = app.screen
        assert isinstance(dialog, TextInputScreen), "a bad ref keeps the dialog open"
        assert dialog.query_one(Input).value == "..bad"
        assert "invalid version tag or git ref" in str(dialog.query_one("#input-error").render())
        dialog.query_one(Input).value = ""
        await pilot.press("enter")  # empty: the newest commit of its branch
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        question = str(app.screen.query_one("#confirm-question").render())
        assert "Update v0.3.77 to the newest commit of its branch?" in question
        await pilot.press("n")
        await pilot.press("b")  # nothing was updated: rollback says so, asks nothing
        await until(pilot, lambda: noted(app, "Nothing to roll back for v0.3.77"), "rollback")
        assert isinstance(app.screen, VersionsScreen)

        # yes: the question's worker starts the update as an App job
        seen: list[JobKey] = []
        app.job_updates.subscribe(app, lambda update: seen.append(update.key))
        await pilot.press("U")
        await type_into(pilot, "")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
        await pilot.press("y")
        await until(pilot, lambda: JobKey(JobKind.UPDATE, "v0.3.77") in seen, "the update's job")


async def test_audit_shows_the_package_table(tmp_path: Path) -> None:
    from comfy_tui.ui.screens.versions import VersionsScreen
    from comfy_tui.ui.widgets.version_table import VersionTable
    from tests.fakes.installed_version import install_fake_version
    from tests.ui.app_factory import OFFLINE_GITHUB
    from tests.ui.versions_lab import versions_app

    install_fake_version(DataPaths(tmp_path))
    app = versions_app(tmp_path, OFFLINE_GITHUB)
    async with app.run_test(size=SMALL) as pilot:
        await until(pilot, lambda: isinstance(app.screen, VersionsScreen), "Versions")
        table = app.screen.query_one(VersionTable)
        await until(pilot, lambda: "v0.3.77" in table.rows_by_tag, "the version")
        table.move_cursor(row=table.get_row_index("v0.3.77"))
        await pilot.pause()
        await pilot.press("A")
        await until(pilot, lambda: isinstance(app.screen, ReportScreen), "the audit")
        report = app.screen
        assert isinstance(report, ReportScreen)
        assert any(line.startswith("PACKAGE") for line in report.lines), report.lines


async def test_install_a_ref_with_a_name_goes_through_the_install_dialog(tmp_path: Path) -> None:
    """`I` is `install REF [--name NAME]`: a bad ref stays under the field; a good one opens the
    install dialog (torch, Python, index) and starts the lifecycle's ref install as a job."""
    from comfy_tui.runner import JobKey, JobKind
    from comfy_tui.ui.dialogs.error import ErrorScreen
    from comfy_tui.ui.dialogs.install import InstallScreen
    from comfy_tui.ui.screens.versions import VersionsScreen
    from tests.ui.app_factory import make_test_app

    seen: list[JobKey] = []
    app = make_test_app(tmp_path / "data", settings={"comfyui_repo": str(tmp_path / "no-repo")})
    async with app.run_test(size=SMALL) as pilot:
        app.job_updates.subscribe(app, lambda update: seen.append(update.key))
        await until(pilot, lambda: isinstance(app.screen, VersionsScreen), "Versions")
        await pilot.press("I")
        await type_into(pilot, "-x")
        dialog = app.screen
        assert isinstance(dialog, TextInputScreen) and dialog.query_one(Input).value == "-x"
        dialog.query_one(Input).value = "master my-fix"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, InstallScreen), "the install dialog")
        await pilot.click("#install-go")
        await until(pilot, lambda: JobKey(JobKind.INSTALL, "master") in seen, "the ref's job")
        # no mirror to clone from here: the job fails and says so in full
        await until(pilot, lambda: isinstance(app.screen, ErrorScreen), "the failure")


async def test_launch_creates_the_output_folder_first(
    data_dir_cleaned: Path, tmp_path: Path
) -> None:
    """`launch --output-dir DIR` from the TUI: ComfyUI's `--output-directory DIR` in Extra flags;
    the launch creates the folder first, as the CLI's does (one service function); a file
    there fails the launch and says so."""
    taken = tmp_path / "a-file"
    taken.write_text("x")
    renders = tmp_path / "new" / "renders"
    app = real_app(data_dir_cleaned)
    async with app.run_test(size=SMALL) as pilot:
        await pilot.press("4", "l")
        await until(pilot, lambda: isinstance(app.screen, LaunchScreen), "the launch dialog")
        app.screen.query_one("#launch-extra", Input).value = f"--output-directory {taken}"
        app.screen.query_one("#launch-port", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ErrorScreen), "the refusal")
        assert isinstance(app.screen, ErrorScreen)
        assert app.screen.report.message.endswith(f"{taken}: not a folder")
        await pilot.press("escape")
        assert taken.is_file() and states(app) == []  # nothing was started

        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LaunchScreen), "the launch dialog")
        app.screen.query_one("#launch-extra", Input).value = f"--output-directory {renders}"
        app.screen.query_one("#launch-port", Input).focus()
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, InstancesScreen), "back")
        await until(pilot, lambda: states(app) == ["running"], "running")
        assert renders.is_dir()
        [live] = [v for v in app.screen.views if v.record.live]  # type: ignore[attr-defined]
        assert live.record.argv[-2:] == ("--output-directory", str(renders))

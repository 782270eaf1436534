"""The adopt dialog (`a` on Versions) and the release list's size column, with snapshots.

The flow test adopts a real folder (a git checkout with its own venv and a node checkout) through
the real service and shares its node; the snapshots use fixed, fake data.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, OptionList
from textual.worker import WorkerCancelled, WorkerFailed

from comfy_tui.core.size_estimate import SizeEstimate
from comfy_tui.paths import DataPaths
from comfy_tui.services.adopt_nodes import OwnNodeInfo
from comfy_tui.store import node_records
from comfy_tui.store.version_records import VersionRecord
from comfy_tui.ui.dialogs.adopt import AdoptScreen
from comfy_tui.ui.dialogs.pick import PickScreen
from comfy_tui.ui.widgets.version_table import VersionTable
from tests.fakes.adoptable import add_node, make_clone
from tests.fakes.fake_github import FakeGitHub, ThreadedFakeGitHub
from tests.fakes.node_repo import NodeMirror
from tests.ui.app_factory import LARGE, SMALL
from tests.ui.versions_lab import RELEASES, settle, versions_app
from tests.waiting import until

SIZES = {"80x24": SMALL, "120x40": LARGE}


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with ThreadedFakeGitHub(FakeGitHub(releases=list(RELEASES))) as fake:
        yield fake


async def open_dialog(pilot: Pilot[Any]) -> AdoptScreen:
    await settle(pilot)
    await pilot.press("a")
    await until(pilot, lambda: isinstance(pilot.app.screen, AdoptScreen), "the adopt dialog")
    assert isinstance(pilot.app.screen, AdoptScreen)
    return pilot.app.screen


async def finish(pilot: Pilot[Any], screen: Any, group: str) -> None:
    """Wait for `screen`'s (or the app's) workers of `group` to end."""
    for worker in list(screen.workers):
        if worker.group == group:
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await worker.wait()
    await pilot.pause()


async def test_adopt_a_folder_and_share_its_node(
    tmp_path: Path, data_dir: Path, github: FakeGitHub, node_mirror: NodeMirror
) -> None:
    node_mirror.add("ComfyUI-Thing")
    checkout = make_clone(tmp_path / "ComfyUI")
    commit = add_node(checkout, node_mirror, "ComfyUI-Thing")
    app = versions_app(data_dir, github.url)
    async with app.run_test(size=LARGE) as pilot:
        dialog = await open_dialog(pilot)
        dialog.query_one("#adopt-path", Input).value = str(tmp_path / "nothing-here")
        await pilot.press("enter")
        await finish(pilot, dialog, "adopt")
        error = str(dialog.query_one("#adopt-error").render())
        assert "does not exist" in error and app.screen is dialog, "refused, still open"

        dialog.query_one("#adopt-path", Input).value = str(checkout)
        dialog.query_one("#adopt-name", Input).value = "mine"
        await pilot.press("enter")
        await finish(pilot, dialog, "adopt")
        assert dialog.record is not None and dialog.record.tag == "mine"
        table = dialog.query_one("#adopt-nodes", DataTable)
        assert table.get_row("ComfyUI-Thing")[1] == commit[:12]

        await pilot.press("s")
        await finish(pilot, app, "job:nodes:share:ComfyUI-Thing")
        shared = node_records.load_node(DataPaths(data_dir), "ComfyUI-Thing")
        assert shared is not None and shared.url == node_mirror.url("ComfyUI-Thing")
        assert table.get_row("ComfyUI-Thing")[2] == "yes"

        await pilot.press("escape")
        await settle(pilot)
        assert "mine" in app.screen.query_one(VersionTable).rows_by_tag
    assert checkout.is_dir()


async def test_share_a_node_of_an_installed_version_at_80x24(
    tmp_path: Path, data_dir: Path, github: FakeGitHub, node_mirror: NodeMirror
) -> None:
    """`nodes adopt NAME TAG` for a version adopted earlier: `o` on Versions lists its own
    nodes that can be shared, enter shares the picked one at its commit."""
    node_mirror.add("ComfyUI-Thing")
    checkout = make_clone(tmp_path / "ComfyUI")
    add_node(checkout, node_mirror, "ComfyUI-Thing")
    app = versions_app(data_dir, github.url)
    async with app.run_test(size=SMALL) as pilot:
        await app.services.versions.adopt(checkout, name="mine")
        await pilot.press("2", "1")  # back on Versions: it reloads what is installed
        await settle(pilot)
        table = app.screen.query_one(VersionTable)
        table.move_cursor(row=table.get_row_index("mine"))
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, PickScreen), "the node picker")
        await until(pilot, lambda: bool(app.screen.query(OptionList)), "its list")
        [only] = [str(o.prompt) for o in app.screen.query_one(OptionList).options]
        assert only.startswith("ComfyUI-Thing ") and node_mirror.url("ComfyUI-Thing") in only
        await pilot.press("enter")
        await finish(pilot, app, "job:nodes:share:ComfyUI-Thing")
        shared = node_records.load_node(DataPaths(data_dir), "ComfyUI-Thing")
        assert shared is not None and shared.url == node_mirror.url("ComfyUI-Thing")
        await pilot.press("o")  # nothing left to share: said, no picker
        await until(pilot, lambda: any("no own node" in str(n.message)
                                       for n in app._notifications), "the note")  # fmt: skip
        assert not isinstance(app.screen, PickScreen)


RECORD = VersionRecord(
    tag="adopted-0.3.77",
    path="/home/me/ComfyUI",
    python="/home/me/ComfyUI/.venv/bin/python",
    commit="0123456789abcdef0123",
    comfyui_version="0.3.77",
    python_version="3.12.3",
    torch_version="2.9.1+cu128",
    torch_backend="cu128",
    installer="adopted (.venv/)",
    adopted="/home/me/ComfyUI",
)
OWN = [
    OwnNodeInfo("ComfyUI-Impact-Pack", "git", True,
                "https://github.com/ltdrdata/ComfyUI-Impact-Pack", "4d5e6f7a8b9c0d1e", False),
    OwnNodeInfo("ComfyUI-Manager", "git", True,
                "https://github.com/Comfy-Org/ComfyUI-Manager", "aa11bb22cc33dd44", True),
    OwnNodeInfo("my_hack.py", "file", True, "", "", False),
]  # fmt: skip


@pytest.mark.parametrize("size", SIZES)
def test_adopt_form_snapshot(
    snap_compare: Any, data_dir: Path, github: FakeGitHub, size: str
) -> None:
    app = versions_app(data_dir, github.url)

    async def run_before(pilot: Pilot[Any]) -> None:
        dialog = await open_dialog(pilot)
        for field in dialog.query(Input):
            field.cursor_blink = False  # a blinking cursor is drawn or not by the clock
        dialog.query_one("#adopt-path", Input).value = "/home/me/ComfyUI"
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_adopt_result_snapshot(
    snap_compare: Any, data_dir: Path, github: FakeGitHub, size: str
) -> None:
    app = versions_app(data_dir, github.url)

    async def run_before(pilot: Pilot[Any]) -> None:
        dialog = await open_dialog(pilot)
        dialog.show_result(RECORD, OWN)
        await pilot.pause()

    assert snap_compare(app, run_before=run_before, terminal_size=SIZES[size])


ESTIMATES = {
    "v0.45.2": SizeEstimate(3_100_000_000, 6_200_000_000, "the wheel sizes of 61 packages"),
    "v0.33.1": SizeEstimate(None, 5_900_000_000, "an earlier install of the same packages"),
}


@pytest.mark.parametrize("size", SIZES)
def test_release_sizes_snapshot(
    snap_compare: Any, data_dir: Path, github: FakeGitHub, size: str
) -> None:
    app = versions_app(data_dir, github.url)

    async def estimates(tags: Any, **kw: Any) -> dict[str, SizeEstimate]:
        return {t: e for t, e in ESTIMATES.items() if t in set(tags)}

    app.services.versions.size_estimates = estimates  # type: ignore[method-assign]

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)

    assert snap_compare(app, run_before=run_before, terminal_size=SIZES[size])


def test_details_name_the_estimate_and_the_adopted_folder() -> None:
    from comfy_tui.ui.dialogs.version_details import detail_lines

    lines = dict(detail_lines("v0.45.2", None, None, False, ESTIMATES["v0.45.2"]))
    assert lines["Size"] == (
        "about 5.8 GiB on disk, 2.9 GiB to download (from the wheel sizes of 61 packages)"
    )
    adopted = dict(detail_lines(RECORD.tag, RECORD, None, False))
    assert "adopted from /home/me/ComfyUI (remove only forgets it)" in adopted["Installed"]


async def test_the_release_list_sizes_releases_from_the_mirror_and_the_wheelhouse(
    tmp_path: Path, data_dir: Path, wheelhouse: Path
) -> None:
    import subprocess
    import sys

    from tests.fakes.comfyui_repo import FakeTag, build_comfyui_repo
    from tests.ui.app_factory import make_test_app

    upstream = build_comfyui_repo(tmp_path / "up", [FakeTag("v0.4.0"), FakeTag("v0.4.1")])
    mirror = DataPaths(data_dir).comfyui_mirror()
    subprocess.run(["git", "clone", "-q", "--bare", str(upstream), str(mirror)], check=True)
    from comfy_tui.services.github import GitHubReleases
    from tests.ui.versions_lab import no_sleep

    settings = {"find_links": (wheelhouse.as_uri(),), "python": sys.executable}
    app = make_test_app(  # GitHub offline: the list is the mirror's tags
        data_dir,
        settings=settings,
        releases=lambda s, built: GitHubReleases(s, built.paths, sleep=no_sleep),
    )
    async with app.run_test(size=LARGE) as pilot:
        await settle(pilot)
        rows = app.screen.query_one(VersionTable).rows_by_tag
        assert set(rows) == {"v0.4.0", "v0.4.1"}
        assert rows["v0.4.1"].size.startswith("~") and " KiB / " in rows["v0.4.1"].size


async def test_e_sizes_a_release_the_screen_left_unsized_at_80x24(
    tmp_path: Path, data_dir: Path, wheelhouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`releases --estimate` beyond the releases the screen sizes itself: `e` on one."""
    import subprocess
    import sys

    from comfy_tui.services.github import GitHubReleases
    from comfy_tui.ui.screens import versions_data
    from tests.fakes.comfyui_repo import FakeTag, build_comfyui_repo
    from tests.ui.app_factory import make_test_app
    from tests.ui.versions_lab import no_sleep

    monkeypatch.setattr(versions_data, "RESOLVE_LIMIT", 1)  # the screen sizes one set by itself
    tags = [FakeTag("v0.4.0", requirements="torch\ntinydep\n"), FakeTag("v0.4.1")]
    upstream = build_comfyui_repo(tmp_path / "up", tags)
    mirror = DataPaths(data_dir).comfyui_mirror()
    subprocess.run(["git", "clone", "-q", "--bare", str(upstream), str(mirror)], check=True)
    app = make_test_app(
        data_dir,
        settings={"find_links": (wheelhouse.as_uri(),), "python": sys.executable},
        releases=lambda s, built: GitHubReleases(s, built.paths, sleep=no_sleep),
    )
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        table = app.screen.query_one(VersionTable)
        assert table.rows_by_tag["v0.4.1"].size.startswith("~")
        assert table.rows_by_tag["v0.4.0"].size == ""  # another set, past the limit
        table.move_cursor(row=table.get_row_index("v0.4.0"))
        await pilot.press("e")
        await settle(pilot)
        await until(pilot, lambda: table.rows_by_tag["v0.4.0"].size.startswith("~"), "sized")

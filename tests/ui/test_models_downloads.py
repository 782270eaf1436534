"""Pilot tests of the Downloads panel: add (URL, repo + picked file), progress, pause/resume,
cancel, bad input, and quitting while a download runs — against loopback fakes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Input, OptionList

from comfy_tui.services.downloads import DownloadItem, DownloadRequest, State
from comfy_tui.ui.app import ComfyTuiApp
from comfy_tui.ui.dialogs.add_download import AddDownloadScreen
from comfy_tui.ui.dialogs.confirm import ConfirmScreen
from comfy_tui.ui.dialogs.pick import PickScreen
from comfy_tui.ui.widgets.download_list import DownloadList
from tests.fakes.download_server import DownloadServer
from tests.fakes.fake_hf import COMMIT, FakeHub
from tests.fakes.models import safetensors_bytes, sd_vae, sdxl_lora
from tests.ui.app_factory import LARGE, SMALL, make_test_app
from tests.ui.test_models_screen import names, settle
from tests.waiting import until

LORA = safetensors_bytes(sdxl_lora(), {"ss_base_model_version": "sdxl_base_v1-0"})
VAE = safetensors_bytes(sd_vae())
SLOW = bytes(4 * 1024 * 1024)


def items(app: ComfyTuiApp) -> list[DownloadItem]:
    return app.downloads.queue.items()


def state(app: ComfyTuiApp) -> State | None:
    found = items(app)
    return found[0].state if found else None


def rows(app: ComfyTuiApp) -> list[str]:
    listing = app.screen.query_one(DownloadList)
    return [str(listing.get_option_at_index(i).prompt) for i in range(listing.option_count)]


async def type_into(pilot: Any, field: str, text: str) -> None:
    pilot.app.screen.query_one(f"#{field}", Input).value = text
    await pilot.pause()


def local(data_dir: Path, **settings: Any) -> ComfyTuiApp:
    return make_test_app(data_dir, settings={"allow_local_downloads": True, **settings})


async def test_add_a_url_download_and_see_it_land_in_the_table(data_dir: Path) -> None:
    async with DownloadServer() as server:
        url = server.add("/files/pixel.safetensors", LORA)
        app = local(data_dir)
        async with app.run_test(size=LARGE) as pilot:
            await pilot.press("2")
            await settle(pilot)
            assert not app.screen.query_one("#models-downloads").display
            await pilot.press("a")
            await pilot.pause()
            assert isinstance(app.screen, AddDownloadScreen)
            await type_into(pilot, "download-source", url)
            await pilot.press("enter")  # a URL: straight to the folder
            assert app.screen.focused is app.screen.query_one("#download-folder")
            await pilot.press(*"loras", "enter", "enter")
            await until(pilot, lambda: state(app) is State.DONE, "the download")
            await until(pilot, lambda: "pixel" in names(app), "the table")
            assert app.screen.query_one("#models-downloads").display
            [row] = rows(app)
            assert row.startswith("✓ pixel.safetensors") and "100%" in row and "done" in row
            [model] = await app.services.library.list_models()
            assert model.source_url == url and model.sha256 == items(app)[0].sha256


async def test_pick_a_file_of_a_repo(data_dir: Path) -> None:
    async with FakeHub() as hub:
        hub.add_repo("org/vae", {"README.md": b"hi", "split/vae/ae.safetensors": VAE})
        app = make_test_app(data_dir, settings={"hf_endpoint": hub.base})
        async with app.run_test(size=LARGE) as pilot:
            await pilot.press("2")
            await settle(pilot)
            await pilot.press("a")
            await pilot.pause()
            await type_into(pilot, "download-source", "org/vae")
            await pilot.press("enter")
            assert app.screen.focused is app.screen.query_one("#download-revision")
            await pilot.press("enter")  # no revision: main
            assert app.screen.focused is app.screen.query_one("#download-file")
            await pilot.press("enter")  # empty: list the repo's files
            await until(
                pilot,
                lambda: isinstance(app.screen, PickScreen) and bool(app.screen.query(OptionList)),
                "the picker, composed",
            )
            picker = app.screen.query_one(OptionList)
            labels = [str(picker.get_option_at_index(i).prompt) for i in range(2)]
            assert labels[0].startswith("README.md") and labels[1].startswith("split/vae/ae")
            await pilot.press("down", "enter")
            await pilot.pause()
            assert isinstance(app.screen, AddDownloadScreen)
            value = app.screen.query_one("#download-file", Input).value
            assert value == "split/vae/ae.safetensors"
            await pilot.press("enter", "enter")  # folder guessed from the path, no sha256
            await until(pilot, lambda: state(app) is State.DONE, "the download")
            await until(pilot, lambda: "ae" in names(app), "the table")
            [model] = await app.services.library.list_models()
            assert (model.folder, model.source_repo) == ("vae", "org/vae")


async def test_a_repo_file_at_a_revision_at_80x24(data_dir: Path) -> None:
    """`models download REPO FILE --revision R` from the dialog: the picker lists the repo at
    R and the file is fetched at R; a revision the Hub does not know is said in the dialog."""
    async with FakeHub() as hub:
        hub.add_repo("org/vae", {"split/vae/ae.safetensors": VAE})
        app = make_test_app(data_dir, settings={"hf_endpoint": hub.base})
        async with app.run_test(size=SMALL) as pilot:
            await pilot.press("2")
            await settle(pilot)
            await pilot.press("a")
            await pilot.pause()
            await type_into(pilot, "download-source", "org/vae")
            await pilot.press("enter")
            await type_into(pilot, "download-revision", "nope")
            await pilot.press("enter", "enter")  # empty File: list the repo at `nope`
            message = app.screen.query_one("#add-download-message")
            await until(pilot, lambda: message.has_class("-error"), "the error")
            assert isinstance(app.screen, AddDownloadScreen) and items(app) == []
            await type_into(pilot, "download-revision", COMMIT)
            app.screen.query_one("#download-file", Input).focus()
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, PickScreen), "the picker")
            assert f"org/vae @ {COMMIT}" in str(app.screen.query_one("#pick-title").render())
            await until(pilot, lambda: bool(app.screen.query(OptionList)), "its list")
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, AddDownloadScreen)
            await pilot.press("enter", "enter")
            await until(pilot, lambda: state(app) is State.DONE, "the download")
            assert items(app)[0].request.revision == COMMIT
            paths = [seen.path for seen in hub.requests]
            assert f"/api/models/org/vae/tree/{COMMIT}" in paths
            assert f"/org/vae/resolve/{COMMIT}/split/vae/ae.safetensors" in paths


async def test_bad_input_says_why_and_queues_nothing(data_dir: Path) -> None:
    app = make_test_app(data_dir)
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("a")
        await pilot.pause()
        await type_into(pilot, "download-source", "http://models.example/x.safetensors")
        await pilot.press("enter", "enter", "enter")
        message = app.screen.query_one("#add-download-message")
        await until(pilot, lambda: message.has_class("-error"), "the error")
        assert "https" in str(message.render())
        assert isinstance(app.screen, AddDownloadScreen) and items(app) == []
        await pilot.press("escape")
        assert not isinstance(app.screen, AddDownloadScreen)


async def test_pause_resume_cancel_and_quit_asks(data_dir: Path) -> None:
    async with DownloadServer() as server:
        url = server.add("/slow/big.safetensors", SLOW, rate=256 * 1024)
        app = local(data_dir)
        async with app.run_test(size=LARGE) as pilot:
            await pilot.press("2")
            await settle(pilot)
            await app.downloads.queue.add(DownloadRequest(url, folder="checkpoints"))
            await until(pilot, lambda: items(app)[0].bytes_done > 0, "progress")
            await until(pilot, lambda: "/s" in rows(app)[0], "the speed")
            part = data_dir / "library/models/checkpoints/big.safetensors.part"
            await pilot.press("p")
            await until(pilot, lambda: state(app) is State.PAUSED, "the pause")
            assert part.exists() and "paused" in rows(app)[0]
            await pilot.press("p")
            await until(pilot, lambda: state(app) is State.ACTIVE, "the resume")

            await pilot.press("q")  # a running download: quitting asks
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the question")
            assert "download big.safetensors" in str(
                app.screen.query_one("#confirm-question").render()
            )
            await pilot.press("n")
            await pilot.pause()

            await pilot.press("c")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirm")
            await pilot.press("y")
            await until(pilot, lambda: state(app) is State.CANCELLED, "the cancel")
            assert not part.exists()
            await pilot.press("x")  # clear finished
            await until(pilot, lambda: not items(app), "the clear")
            await until(
                pilot, lambda: not app.screen.query_one("#models-downloads").display, "hide"
            )


async def test_a_download_that_ends_on_another_screen_is_shown_on_return(data_dir: Path) -> None:
    async with DownloadServer() as server:
        url = server.add("/files/pixel.safetensors", LORA)
        app = local(data_dir)
        async with app.run_test(size=LARGE) as pilot:
            await pilot.press("2")
            await settle(pilot)
            await pilot.press("3")  # the Monitor screen
            await pilot.pause()
            await app.downloads.queue.add(DownloadRequest(url, folder="loras"))
            await until(pilot, lambda: state(app) is State.DONE, "the download")
            await pilot.press("2")
            await until(pilot, lambda: "pixel" in names(app), "the table")
            assert rows(app)[0].startswith("✓ pixel.safetensors")


async def test_x_clears_failed_downloads_too(data_dir: Path) -> None:
    async with DownloadServer() as server:
        good = server.add("/files/pixel.safetensors", LORA)
        app = local(data_dir)
        async with app.run_test(size=LARGE) as pilot:
            await pilot.press("2")
            await settle(pilot)
            await app.downloads.queue.add(DownloadRequest(good, folder="loras"))
            await until(pilot, lambda: state(app) is State.DONE, "the download")
            missing = good.replace("pixel", "missing")
            await app.downloads.queue.add(DownloadRequest(missing, folder="loras"))
            await until(
                pilot, lambda: any(i.state is State.FAILED for i in items(app)), "the failure"
            )
            await until(pilot, lambda: len(rows(app)) == 2, "both rows")
            await pilot.press("x")
            await until(pilot, lambda: not items(app), "the clear")

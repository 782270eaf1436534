"""The Models screen's `w`: a workflow file's models, present or missing, and `d` downloads."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import DataTable, Input

from comfy_tui.ui.dialogs.help import HelpScreen
from comfy_tui.ui.dialogs.text_input import TextInputScreen
from comfy_tui.ui.dialogs.workflow_needs import WorkflowNeedsScreen
from comfy_tui.ui.screens.models import ModelsScreen
from tests.fakes.download_server import DownloadServer
from tests.fakes.payloads import safetensors_payload
from tests.ui.app_factory import LARGE, make_test_app
from tests.ui.fake_library import populate
from tests.ui.test_models_screen import settle


def flow(url: str) -> dict[str, object]:
    return {
        "nodes": [
            {"id": 1, "type": "CheckpointLoaderSimple",
             "widgets_values": ["sd_xl_base_1.0.safetensors"]},
            {"id": 2, "type": "VAELoader", "widgets_values": ["ae.safetensors"],
             "properties": {"models": [{"name": "ae.safetensors", "url": url,
                                        "directory": "vae"}]}},
            {"id": 3, "type": "LoraLoader", "widgets_values": ["gone.safetensors", 1.0, 1.0]},
        ]
    }  # fmt: skip


async def test_w_shows_the_needs_and_d_queues_the_missing(data_dir: Path, tmp_path: Path) -> None:
    await populate(data_dir)
    async with DownloadServer() as server:
        url = server.add("/files/ae.safetensors", safetensors_payload(50_000))
        workflow = tmp_path / "flux.json"
        workflow.write_text(json.dumps(flow(url)))
        app = make_test_app(data_dir, settings={"allow_local_downloads": True})
        async with app.run_test(size=LARGE) as pilot:
            await pilot.press("2")
            await settle(pilot)
            await pilot.press("w")
            await pilot.pause()
            assert isinstance(app.screen, TextInputScreen)
            app.screen.query_one(Input).value = str(workflow)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, WorkflowNeedsScreen)
            summary = str(app.screen.query_one("#workflow-summary").render())
            assert summary == "3 models: 1 present, 1 to download, 1 without a source"
            table = app.screen.query_one(DataTable)
            rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
            assert rows[0][:2] == ["present", "checkpoints/sd_xl_base_1.0.safetensors"]
            assert rows[1][0] == "missing · no source" and rows[2][0] == "missing · URL"
            await pilot.press("d")
            await settle(pilot)
            assert isinstance(app.screen, ModelsScreen)
            queued = app.screen.queue.items()
            assert [(i.request.source, i.folder) for i in queued] == [(url, "vae")]


async def test_a_file_without_a_workflow_says_so(data_dir: Path, tmp_path: Path) -> None:
    picture = tmp_path / "photo.json"
    picture.write_text("[1, 2, 3]")
    app = make_test_app(data_dir)
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("2", "w")
        await pilot.pause()
        app.screen.query_one(Input).value = str(picture)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ModelsScreen)
        assert any("holds no ComfyUI workflow" in str(n.message) for n in app._notifications)


async def test_help_lists_w(data_dir: Path) -> None:
    app = make_test_app(data_dir)
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("2", "question_mark")
        assert isinstance(app.screen, HelpScreen)
        table = app.screen.query_one(DataTable)
        keys = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
        assert "w" in keys

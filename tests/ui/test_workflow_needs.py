"""The Models screen's `w`: a workflow file's models, present or missing, and `d` downloads;
the node classes a version lacks, and `v` to check another version."""

from __future__ import annotations

import json
from pathlib import Path

from textual.widgets import DataTable, Input, OptionList

from comfy_tui.paths import DataPaths
from comfy_tui.store.version_records import VersionRecord, save_record
from comfy_tui.ui.dialogs.help import HelpScreen
from comfy_tui.ui.dialogs.pick import PickScreen
from comfy_tui.ui.dialogs.text_input import TextInputScreen
from comfy_tui.ui.dialogs.workflow_needs import WorkflowNeedsScreen
from comfy_tui.ui.screens.models import ModelsScreen
from tests.fakes.download_server import DownloadServer
from tests.fakes.payloads import safetensors_payload
from tests.ui.app_factory import LARGE, SMALL, make_test_app
from tests.ui.fake_library import populate
from tests.ui.test_models_screen import settle
from tests.waiting import until


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


async def test_the_nodes_a_version_lacks_and_v_checks_another_at_80x24(
    data_dir: Path, tmp_path: Path
) -> None:
    """`models needs FILE --version TAG`: without a default version the nodes are not checked;
    `v` picks an installed version and the dialog lists the node classes it lacks, each with
    the repository that provides it (the same `nodes_needed` the CLI calls)."""
    version = tmp_path / "v0.3.50"
    (version / "custom_nodes" / "my-node").mkdir(parents=True)
    (version / "nodes.py").write_text('NODE_CLASS_MAPPINGS = {\n    "KSampler": B,\n}\n')
    (version / "custom_nodes" / "my-node" / "__init__.py").write_text(
        'NODE_CLASS_MAPPINGS = {\n    "MyNode": C,\n}\n'
    )
    save_record(DataPaths(data_dir), VersionRecord("v0.3.50", str(version), "/bin/false"))
    workflow = tmp_path / "flow.json"
    workflow.write_text(json.dumps({
        "1": {"class_type": "KSampler", "inputs": {}},
        "2": {"class_type": "MyNode", "inputs": {}},
        "3": {"class_type": "ImpactWildcardProcessor", "inputs": {}},
        "4": {"class_type": "SomethingNobodyHas", "inputs": {}},
    }))  # fmt: skip
    impact = "https://github.com/ltdrdata/ComfyUI-Impact-Pack"
    node_map = {impact: [["ImpactWildcardProcessor"], {"title_aux": "Impact Pack"}]}
    async with DownloadServer() as server:
        map_url = server.add("/extension-node-map.json", json.dumps(node_map).encode())
        app = make_test_app(data_dir, settings={"node_map_url": map_url})
        async with app.run_test(size=SMALL) as pilot:
            await pilot.press("2")
            await settle(pilot)
            await pilot.press("w")
            await pilot.pause()
            app.screen.query_one(Input).value = str(workflow)
            await pilot.press("enter")
            await settle(pilot)
            assert isinstance(app.screen, WorkflowNeedsScreen)
            assert "not checked" in str(app.screen.query_one("#workflow-nodes").render())
            await pilot.press("v")
            await until(pilot, lambda: isinstance(app.screen, PickScreen), "the versions")
            await until(pilot, lambda: bool(app.screen.query(OptionList)), "its list")
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, WorkflowNeedsScreen), "again")
            await settle(pilot)
            line = str(app.screen.query_one("#workflow-nodes").render())
            assert line == "Nodes: 2 classes not in v0.3.50 (asked its checkouts)."
            table = app.screen.query_one(DataTable)
            rows = [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]
            assert rows == [
                ["node missing", "ImpactWildcardProcessor", f"comfy-tui nodes add {impact}"],
                ["node missing", "SomethingNobodyHas", "no repository known"],
            ]

"""`comfy-tui models needs FILE [--download]` against a real library and a loopback server."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from comfy_tui.paths import DataPaths
from comfy_tui.store.version_records import VersionRecord, save_record
from tests.cli_run import run_cli
from tests.fakes.download_server import DownloadServer, ThreadedServer
from tests.fakes.models import keys, write_safetensors
from tests.fakes.payloads import safetensors_payload
from tests.fakes.workflow_files import png_with, ui_flow

T5 = safetensors_payload(200_000)


def comfy(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMFY_TUI_", "HF_"))}
    env["COMFY_TUI_ALLOW_LOCAL_DOWNLOADS"] = "1"
    return run_cli(data_dir, *args, env=env)


def test_needs_lists_present_and_missing_then_downloads(data_dir: Path, tmp_path: Path) -> None:
    models = data_dir / "library" / "models"
    write_safetensors(models / "checkpoints" / "sd15.safetensors", keys(["a.weight"]))
    write_safetensors(models / "clip" / "clip_l.safetensors", keys(["b.weight"]))
    assert comfy(data_dir, "models", "scan").returncode == 0
    with ThreadedServer(DownloadServer()) as server:
        url = server.add("/files/t5xxl_fp8.safetensors", T5)
        listed = [{"name": "t5xxl_fp8.safetensors", "url": url, "directory": "text_encoders"}]
        image = tmp_path / "ComfyUI_00001_.png"
        image.write_bytes(png_with({"workflow": ui_flow(listed)}))

        shown = comfy(data_dir, "models", "needs", str(image))
        assert shown.returncode == 0, shown.stderr
        lines = shown.stdout.splitlines()
        assert any(ln.startswith("present") and "clip/clip_l.safetensors" in ln for ln in lines)
        assert any("missing (URL known)" in ln and url in ln for ln in lines)
        assert any("missing (no source)" in ln and "4x-UltraSharp.pth" in ln for ln in lines)
        assert lines[-1] == "4 models: 2 present, 1 to download, 1 without a source"

        fetched = comfy(data_dir, "models", "needs", str(image), "--download", "--json")
        assert fetched.returncode == 0, fetched.stderr
    doc = json.loads(fetched.stdout)
    status = {m["name"]: (m["status"], m["path"]) for m in doc["models"]}
    assert status["t5xxl_fp8.safetensors"] == (
        "present", "text_encoders/t5xxl_fp8.safetensors"
    )  # fmt: skip
    assert status["4x-UltraSharp.pth"] == ("missing", None)
    assert (models / "text_encoders" / "t5xxl_fp8.safetensors").read_bytes() == T5


def test_a_file_without_a_workflow_exits_2(data_dir: Path, tmp_path: Path) -> None:
    picture = tmp_path / "photo.png"
    picture.write_bytes(png_with({}))
    result = comfy(data_dir, "models", "needs", str(picture))
    assert result.returncode == 2 and "holds no ComfyUI workflow" in result.stderr
    missing = comfy(data_dir, "models", "needs", str(tmp_path / "nope.json"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_nodes_the_version_lacks_and_where_to_get_them(data_dir: Path, tmp_path: Path) -> None:
    version = tmp_path / "v0.3.50"
    (version / "custom_nodes" / "my-node").mkdir(parents=True)
    (version / "nodes.py").write_text(
        'NODE_CLASS_MAPPINGS = {\n    "CheckpointLoaderSimple": A,\n    "KSampler": B,\n}\n'
    )
    (version / "custom_nodes" / "my-node" / "__init__.py").write_text(
        'NODE_CLASS_MAPPINGS = {\n    "MyNode": C,\n}\n'
    )
    save_record(DataPaths(data_dir), VersionRecord("v0.3.50", str(version), "/bin/false"))
    flow = {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "x.safetensors"}},
        "2": {"class_type": "MyNode", "inputs": {}},
        "3": {"class_type": "ImpactWildcardProcessor", "inputs": {}},
        "4": {"class_type": "SomethingNobodyHas", "inputs": {}},
    }
    workflow = tmp_path / "flow.json"
    workflow.write_text(json.dumps(flow))
    impact = "https://github.com/ltdrdata/ComfyUI-Impact-Pack"
    node_map = {impact: [["ImpactWildcardProcessor"], {"title_aux": "Impact Pack"}]}
    with ThreadedServer(DownloadServer()) as server:
        map_url = server.add("/extension-node-map.json", json.dumps(node_map).encode())
        settings = data_dir / "settings.toml"
        data_dir.mkdir(parents=True, exist_ok=True)
        settings.write_text(f'node_map_url = "{map_url}"\n')
        shown = comfy(data_dir, "models", "needs", str(workflow), "--version", "v0.3.50")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert any("ImpactWildcardProcessor" in ln and f"comfy-tui nodes add {impact}" in ln
               for ln in lines)  # fmt: skip
    assert any("SomethingNobodyHas" in ln and "no repository known" in ln for ln in lines)
    assert not any("MyNode" in ln or "KSampler" in ln for ln in lines)
    assert lines[-1] == "nodes: 2 node classes not provided by v0.3.50"
    # The server is gone: the cached map still answers.
    offline = comfy(data_dir, "models", "needs", str(workflow), "--version", "v0.3.50", "--json")
    doc = json.loads(offline.stdout)
    assert doc["nodes"] == {
        "version": "v0.3.50",
        "checked_with": "checkouts",
        "missing": [
            {"class_type": "ImpactWildcardProcessor", "repo": impact},
            {"class_type": "SomethingNobodyHas", "repo": None},
        ],
    }
    unknown = comfy(data_dir, "models", "needs", str(workflow), "--version", "v9")
    assert unknown.returncode == 2 and "version v9 is not installed" in unknown.stderr

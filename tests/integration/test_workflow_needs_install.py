"""`models needs FILE --install TAG`: models downloaded, missing nodes added and enabled with
the consent of `nodes enable` (nothing of the node runs before it), and the node check asking
a running instance's ``/object_info``."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from comfy_tui.settings import Settings
from tests.cli_run import run_cli
from tests.fakes.download_server import DownloadServer, ThreadedServer
from tests.fakes.install_fixtures import cli_env
from tests.fakes.instance_lab import Lab
from tests.fakes.node_fixtures import install_versions
from tests.fakes.node_repo import NodeCommit, NodeMirror
from tests.fakes.payloads import safetensors_payload

pytestmark = pytest.mark.usefixtures("no_leftover_children")

TAG = "v0.3.77"
LORA = safetensors_payload(150_000)
THING_INIT = 'NODE_CLASS_MAPPINGS = {\n    "ThingNode": object,\n}\n'
INSTALL_PY = "import pathlib, sys\npathlib.Path(sys.argv[0] + '.ran').write_text('ran')\n"


def run(settings: Settings, map_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = cli_env(settings)
    env["COMFY_TUI_NODES_MIRROR"] = settings.nodes_mirror or ""
    env["COMFY_TUI_NODE_MAP_URL"] = map_url
    env["COMFY_TUI_ALLOW_LOCAL_DOWNLOADS"] = "1"
    return run_cli(settings.data_dir, *args, env=env)


def workflow(tmp_path: Path, lora_url: str) -> Path:
    """A UI-format graph: one custom node whose `models` list names a LoRA with its URL."""
    models = [{"name": "detail.safetensors", "url": lora_url, "directory": "loras"}]
    flow = {
        "last_node_id": 1,
        "nodes": [{"id": 1, "type": "ThingNode", "widgets_values": [],
                   "properties": {"models": models}}],
        "links": [],
    }  # fmt: skip
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(flow))
    return path


async def test_install_fetches_models_and_enables_nodes_after_consent(
    nodes_settings: Settings, node_mirror: NodeMirror, data_dir: Path, tmp_path: Path
) -> None:
    await install_versions(nodes_settings, TAG)
    node_mirror.add(
        "Thing",
        NodeCommit(
            requirements="nodedep==1.0\n",
            install_script=INSTALL_PY,
            files={"__init__.py": THING_INIT},
        ),
    )
    link = data_dir / "versions" / TAG / "custom_nodes" / "Thing"
    ran = data_dir / "nodes" / "Thing" / "install.py.ran"
    node_map = {node_mirror.url("Thing"): [["ThingNode"], {"title_aux": "Thing"}]}
    with ThreadedServer(DownloadServer()) as server:
        map_url = server.add("/extension-node-map.json", json.dumps(node_map).encode())
        flow = workflow(tmp_path, server.add("/files/detail.safetensors", LORA))

        shown = run(nodes_settings, map_url, "models", "needs", str(flow), "--version", TAG)
        assert shown.returncode == 0, shown.stderr
        assert f"models needs FILE --install {TAG}" in shown.stderr
        assert shown.stdout.splitlines()[-1] == f"nodes: 1 node class not provided by {TAG}"

        # A script that did not say --yes: the models come, the node is cloned, nothing of it
        # is installed or run.
        refused = run(nodes_settings, map_url, "models", "needs", str(flow), "--install", TAG)
        assert refused.returncode == 2, refused.stderr
        assert "+ nodedep 1.0" in refused.stderr
        assert "add --yes" in refused.stderr.splitlines()[-1]
        assert "Traceback" not in refused.stderr
        assert (data_dir / "library" / "models" / "loras" / "detail.safetensors").is_file()
        assert (data_dir / "nodes" / "Thing" / "__init__.py").is_file()
        assert not link.exists() and not ran.exists()

        done = run(
            nodes_settings, map_url, "models", "needs", str(flow), "--install", TAG, "--yes",
            "--json",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        doc = json.loads(done.stdout)
        assert [m["status"] for m in doc["models"]] == ["present"]
        nodes = doc["nodes"]
        assert nodes["missing"] == [] and nodes["checked_with"] == "checkouts"
        [entry] = nodes["installed"]
        assert entry["node"] == "Thing" and entry["applied"] and not entry["added"]
        assert entry["install_script_ran"] is False
        assert link.is_symlink() and not ran.exists()

        again = run(nodes_settings, map_url, "models", "needs", str(flow), "--install", TAG)
        assert again.returncode == 0, again.stderr
        assert again.stdout.splitlines()[-1] == f"nodes: every node class is provided by {TAG}"


def test_install_bad_usage_changes_nothing(data_dir: Path, tmp_path: Path) -> None:
    settings = Settings(data_dir=data_dir)
    flow = workflow(tmp_path, "https://example.invalid/detail.safetensors")
    unknown = run(settings, "https://example.invalid/map.json", "models", "needs", str(flow),
                  "--install", "v9")  # fmt: skip
    assert unknown.returncode == 2 and "version v9 is not installed" in unknown.stderr
    both = run(settings, "https://example.invalid/map.json", "models", "needs", str(flow),
               "--install", "v1", "--version", "v2")  # fmt: skip
    assert both.returncode == 2 and "--install v1 and --version v2 disagree" in both.stderr
    assert not (data_dir / "library" / "models" / "loras").exists()


@pytest.fixture
async def lab(tmp_path: Path) -> AsyncIterator[Lab]:
    lab = Lab(tmp_path)
    yield lab
    await lab.cleanup()


def lab_cli(lab: Lab, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMFY_TUI_")}
    env["COMFY_TUI_BASE_PORT"] = str(lab.settings.base_port)
    env["COMFY_TUI_NODE_MAP_URL"] = "http://127.0.0.1:9/unreachable.json"
    return run_cli(lab.root, *args, env=env)


async def test_a_running_instance_says_which_nodes_really_loaded(lab: Lab, tmp_path: Path) -> None:
    nodes = Path(lab.version.path) / "custom_nodes"
    (nodes / "Good").mkdir()
    (nodes / "Good" / "__init__.py").write_text('NODE_CLASS_MAPPINGS = {\n    "GoodNode": 1,\n}\n')
    (nodes / "Broken").mkdir()
    (nodes / "Broken" / "__init__.py").write_text(
        'NODE_CLASS_MAPPINGS = {\n    "BrokenNode": 1,\n}\nraise ImportError("no module foo")\n'
    )
    flow = tmp_path / "flow.json"
    classes = ["KSampler", "GoodNode", "BrokenNode"]
    flow.write_text(json.dumps({str(i): {"class_type": c, "inputs": {}}
                                for i, c in enumerate(classes)}))  # fmt: skip

    # Read from the checkouts, the broken node looks provided.
    read = lab_cli(lab, "models", "needs", str(flow), "--json")
    assert read.returncode == 0, read.stderr
    assert json.loads(read.stdout)["nodes"]["checked_with"] == "checkouts"
    assert json.loads(read.stdout)["nodes"]["missing"] == [
        {"class_type": "KSampler", "repo": None}  # the fake's nodes.py registers nothing
    ]

    started = lab_cli(lab, "launch", "--json")
    assert started.returncode == 0, started.stderr
    instance = json.loads(started.stdout)["id"]
    asked = lab_cli(lab, "models", "needs", str(flow), "--json")
    assert asked.returncode == 0, asked.stderr
    doc = json.loads(asked.stdout)["nodes"]
    assert doc["checked_with"] == f"instance {instance}"
    assert doc["missing"] == [{"class_type": "BrokenNode", "repo": None}]
    text = lab_cli(lab, "models", "needs", str(flow))
    assert f"not provided by v0.3.77 (asked instance {instance})" in text.stdout
    assert lab_cli(lab, "stop", "--all").returncode == 0

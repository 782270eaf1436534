"""`upgrade FROM TO [--switch]` and `rollback FROM`: a rehearsal with FROM's custom nodes, per
node results, and running instances moved one at a time (one of them failing on TO)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from comfy_tui.settings import Settings
from tests.cli_run import run_cli
from tests.fakes.comfyui_repo import FakeTag, build_comfyui_repo
from tests.fakes.install_fixtures import cli_env
from tests.fakes.node_fixtures import nodes_settings_for
from tests.fakes.node_repo import NodeCommit, NodeMirror

pytestmark = pytest.mark.usefixtures("no_leftover_children")

FROM, TO = "v0.3.77", "v0.4.0"
TAGS = (
    FakeTag(FROM, files={"fake_api.py": "OLD_NAME = 1\nNEW_NAME = 2\n"}),
    FakeTag(TO, add_flags=["--enable-manager"], files={"fake_api.py": "NEW_NAME = 2\n"}),
)
NODES = {
    "Solid": "from fake_api import NEW_NAME\nNODE_CLASS_MAPPINGS = {}\n",
    "Fragile": "from fake_api import OLD_NAME\nNODE_CLASS_MAPPINGS = {}\n",
    "Needy": "import not_installed_anywhere\nNODE_CLASS_MAPPINGS = {}\n",
}


@pytest.fixture
def lab(
    tmp_path: Path, data_dir: Path, wheelhouse: Path, node_wheels: Path, node_mirror: NodeMirror
) -> Settings:
    upstream = build_comfyui_repo(tmp_path / "upstream", TAGS)
    for name, init in NODES.items():
        node_mirror.add(name, NodeCommit(files={"__init__.py": init}))
    return nodes_settings_for(
        data_dir, upstream, node_mirror, wheelhouse, node_wheels, base_port=_free_base()
    )


def _free_base() -> int:
    from tests.fakes.instance_lab import free_port

    return free_port()


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**cli_env(settings), "COMFY_TUI_NODES_MIRROR": str(settings.nodes_mirror)}
    env["COMFY_TUI_BASE_PORT"] = str(settings.base_port)
    return run_cli(settings.data_dir, *args, env=env)


def ok(settings: Settings, *args: str) -> Any:
    result = cli(settings, *args, "--json")
    assert result.returncode == 0, (args, result.stderr)
    return json.loads(result.stdout)


def add_nodes(settings: Settings, *names: str) -> None:
    for name in names:
        ok(settings, "nodes", "add", NodeMirror.url(name))
        ok(settings, "nodes", "enable", name, FROM, "--yes")


@pytest.mark.slow
def test_rehearsal_reports_each_node_and_switch_refuses(lab: Settings) -> None:
    ok(lab, "install", FROM, "--torch", "cpu")
    add_nodes(lab, *NODES)
    report = ok(lab, "upgrade", FROM, TO)
    assert report["from"] == FROM and report["to"] == TO and report["installed_to"] is True
    assert report["checked"] == "quick test" and report["ok"] is False
    nodes = {n["name"]: n for n in report["nodes"]}
    assert set(nodes) == set(NODES)
    assert nodes["Solid"]["status"] == "loaded" and len(nodes["Solid"]["commit"]) == 40
    assert nodes["Fragile"]["status"] == "import failed"
    assert "cannot import name 'OLD_NAME'" in nodes["Fragile"]["error"]
    assert nodes["Needy"]["status"] == "missing dependency"
    assert "not_installed_anywhere" in nodes["Needy"]["error"]
    assert ok(lab, "versions")["default"] is None

    text = cli(lab, "upgrade", FROM, TO)
    assert text.returncode == 0, text.stderr
    assert f"{FROM} -> {TO}: quick test" in text.stdout
    assert "Fragile" in text.stdout and "import failed: cannot import name" in text.stdout

    refused = cli(lab, "upgrade", FROM, TO, "--switch")
    assert refused.returncode == 1 and refused.stdout == ""
    assert f"not switching {FROM} to {TO}: Fragile (import failed)" in refused.stderr
    assert cli(lab, "upgrade", FROM, FROM).returncode == 2
    assert cli(lab, "upgrade", "v9.9.9", TO).returncode == 1


def _ps(settings: Settings) -> dict[str, dict[str, Any]]:
    listed = ok(settings, "ps")
    rows = listed["instances"] if isinstance(listed, dict) else listed
    return {r["id"]: r for r in rows if r["state"] == "running"}


@pytest.mark.slow
def test_switch_moves_instances_one_by_one_and_rollback_moves_them_back(lab: Settings) -> None:
    ok(lab, "install", FROM, "--torch", "cpu")
    ok(lab, "install", TO, "--torch", "cpu")
    add_nodes(lab, "Solid")
    ok(lab, "default", FROM)
    a = ok(lab, "launch", FROM)["id"]
    failing = [
        "--env",
        "FAKE_COMFYUI_FAIL_WITH=boom",
        "--env",
        "FAKE_COMFYUI_FAIL_ON_VERSION=0.4.0",
    ]
    b = ok(lab, "launch", FROM, *failing)["id"]
    before = _ps(lab)
    assert before[a]["port"] < before[b]["port"]
    try:
        stopped = cli(lab, "upgrade", FROM, TO, "--switch", "--json")
        assert stopped.returncode == 1 and stopped.stdout == ""
        assert f"switch stopped: {b} did not come up on {TO}" in stopped.stderr
        assert f"{a} stay on {TO}" in stopped.stderr
        now = _ps(lab)
        assert now[a]["version"] == TO and now[b]["version"] == FROM
        assert {i: now[i]["port"] for i in now} == {i: before[i]["port"] for i in before}
        assert now[b]["env"] == before[b]["env"]
        assert ok(lab, "versions")["default"] == FROM

        back = ok(lab, "rollback", FROM)
        assert back == {"name": FROM, "undone": "switch", "instances": [a], "default": FROM}
        assert {r["version"] for r in _ps(lab).values()} == {FROM}

        ok(lab, "stop", b)
        switched = ok(lab, "upgrade", FROM, TO, "--switch")
        assert switched["ok"] is True and switched["switched"] == [a]
        assert switched["default"] == TO
        assert _ps(lab)[a]["version"] == TO and _ps(lab)[a]["port"] == before[a]["port"]
        undone = ok(lab, "rollback", FROM)
        assert undone["default"] == FROM and _ps(lab)[a]["version"] == FROM
    finally:
        cli(lab, "stop", "--all")

"""`comfy-tui audit TAG`: packages with their origin; pip-audit when there is one (a fake here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from comfy_tui.paths import DataPaths
from comfy_tui.services.audit import (
    CHECKED,
    NOT_INSTALLED,
    UNAVAILABLE,
    audit_version,
    find_pip_audit,
    parse_pip_audit,
)
from comfy_tui.settings import Settings
from tests.fakes.install_fixtures import cli_env
from tests.fakes.node_fixtures import drain, install_versions, nodes_service
from tests.fakes.node_repo import NodeCommit, NodeMirror

TAG = "v0.3.77"
REPORT = {
    "dependencies": [
        {
            "name": "nodedep",
            "version": "1.0",
            "vulns": [{"id": "PYSEC-1", "fix_versions": ["2.0"]}],
        },
        {"name": "tinydep", "version": "1.0", "vulns": []},
    ],
    "fixes": [],
}


def fake_pip_audit(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "pip-audit"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return script


def test_pip_audit_json_in_both_shapes() -> None:
    assert parse_pip_audit(json.dumps(REPORT))["nodedep"][0].fix_versions == ("2.0",)
    assert list(parse_pip_audit(json.dumps(REPORT["dependencies"]))) == ["nodedep"]


async def test_audit_names_the_node_that_brought_each_package(
    nodes_settings: Settings, node_mirror: NodeMirror, tmp_path: Path
) -> None:
    await install_versions(nodes_settings, TAG)
    node_mirror.add("Thing", NodeCommit(requirements="nodedep==1.0\n"))
    service = nodes_service(nodes_settings)
    await drain(service.add(node_mirror.url("Thing")))
    await drain(service.enable(await service.plan("Thing", TAG)))
    paths = DataPaths(nodes_settings.data_dir)

    assert find_pip_audit() is None  # the test environment has none
    plain = await audit_version(nodes_settings, paths, TAG)
    assert plain.status == NOT_INSTALLED and "pip install 'comfy-tui[audit]'" in plain.detail
    by_name = {p.name: p for p in plain.packages}
    assert by_name["nodedep"].node == "Thing" and not by_name["nodedep"].comfyui
    assert by_name["tinydep"].node is None and by_name["tinydep"].comfyui
    assert by_name["torch"].node is None

    dump = tmp_path / "argv.txt"
    good = fake_pip_audit(
        tmp_path / "good", f"echo \"$@\" > {dump}\necho '{json.dumps(REPORT)}'\nexit 1"
    )
    checked = await audit_version(nodes_settings, paths, TAG, pip_audit=str(good))
    assert checked.status == CHECKED
    assert [p.name for p in checked.vulnerable] == ["nodedep"]
    assert "--no-deps --disable-pip --format json" in dump.read_text()

    offline = fake_pip_audit(
        tmp_path / "off", "echo 'ConnectionError: pypi.org unreachable' >&2\nexit 1"
    )
    failed = await audit_version(nodes_settings, paths, TAG, pip_audit=str(offline))
    assert failed.status == UNAVAILABLE and "pypi.org unreachable" in failed.detail

    env = cli_env(nodes_settings)
    base = [sys.executable, "-m", "comfy_tui", "--data-dir", str(nodes_settings.data_dir), "audit"]

    def cli(*args: str, path: str = "") -> subprocess.CompletedProcess[str]:
        run_env = {**env, "PATH": f"{path}{os.pathsep}{env['PATH']}" if path else env["PATH"]}
        return subprocess.run(
            [*base, *args], capture_output=True, text=True, env=run_env, timeout=120, check=False
        )

    missing = cli(TAG)
    assert missing.returncode == 0, missing.stderr
    assert "nodedep" in missing.stdout and "node Thing" in missing.stdout
    assert "pip-audit is not installed" in missing.stderr
    unreachable = cli(TAG, "--json", path=str(offline.parent))
    assert unreachable.returncode == 0
    assert json.loads(unreachable.stdout)["audit"]["status"] == UNAVAILABLE
    found = cli(TAG, path=str(good.parent))
    assert found.returncode == 1 and "PYSEC-1" in found.stdout
    assert "1 of" in found.stderr

"""`comfy-tui launch` and `restart` from a shell, as a script uses them: the launched ComfyUI
sees the model library (its `/models/checkpoints` lists the library's files), `--env` reaches
it, and `restart` keeps port, environment and everything else, also for an exited instance."""

from __future__ import annotations

import json
import socket
import stat
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from comfy_tui.paths import DataPaths
from comfy_tui.store.instance_records import load_instance
from tests.fakes import models as fm
from tests.fakes.installed_version import install_fake_version
from tests.fakes.instance_lab import free_port
from tests.integration.test_cli import run

pytestmark = pytest.mark.usefixtures("no_leftover_children")

TAG = "v0.3.77"


@pytest.fixture
def lab(data_dir: Path) -> Iterator[Path]:
    paths = DataPaths(data_dir)
    install_fake_version(paths, TAG)
    fm.write_safetensors(
        paths.library_models() / "checkpoints" / "dream.safetensors", fm.sd15_checkpoint()
    )
    try:
        yield data_dir
    finally:
        run(data_dir, "stop", "--all")


def get(port: int, route: str) -> Any:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{route}", timeout=10) as answer:
        return json.loads(answer.read())


def comfyui_env(data_dir: Path, instance_id: str) -> dict[str, str]:
    record = load_instance(DataPaths(data_dir), instance_id)
    assert record is not None and record.pid is not None
    return dict(psutil.Process(record.pid).environ())


def launch(data_dir: Path, *args: str) -> dict[str, Any]:
    result = run(data_dir, "launch", TAG, "--json", *args)
    assert result.returncode == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def test_a_cli_launch_sees_the_library_and_its_env(lab: Path) -> None:
    port = free_port()
    doc = launch(lab, "--port", str(port), "--env", "FAKE_GREETING=hello there", "--env", "A_1=")
    assert get(port, "/models/checkpoints") == ["dream.safetensors"]
    config = DataPaths(lab).model_paths_config(TAG)
    argv = get(port, "/system_stats")["system"]["argv"]
    assert argv[argv.index("--extra-model-paths-config") + 1] == str(config)
    env = comfyui_env(lab, doc["id"])
    assert env["FAKE_GREETING"] == "hello there" and env["A_1"] == ""
    record_file = DataPaths(lab).instance_record(doc["id"])
    assert stat.S_IMODE(record_file.stat().st_mode) == 0o600, "env may hold a token"


def test_restart_keeps_port_env_and_flags_also_when_exited(lab: Path) -> None:
    port = free_port()
    doc = launch(lab, "--port", str(port), "--env", "FAKE_GREETING=hi", "--", "--lowvram")
    instance_id = doc["id"]
    before = load_instance(DataPaths(lab), instance_id)
    assert before is not None

    restarted = run(lab, "restart", instance_id, "--json")
    assert restarted.returncode == 0, restarted.stderr
    assert json.loads(restarted.stdout)["port"] == port
    assert comfyui_env(lab, instance_id)["FAKE_GREETING"] == "hi"

    assert run(lab, "stop", instance_id).returncode == 0
    again = run(lab, "restart", instance_id, "--json")  # an exited instance
    assert again.returncode == 0, again.stderr
    after = load_instance(DataPaths(lab), instance_id)
    assert after is not None and after.state == "running"
    assert (after.port, after.listen, after.gpu, after.extra_args, after.user_env) == (
        before.port,
        before.listen,
        before.gpu,
        before.extra_args,
        before.user_env,
    )
    assert "--lowvram" in get(port, "/system_stats")["system"]["argv"]
    assert comfyui_env(lab, instance_id)["FAKE_GREETING"] == "hi"
    assert get(port, "/models/checkpoints") == ["dream.safetensors"]


def test_restart_moves_to_another_port_only_when_taken_and_says_so(lab: Path) -> None:
    port = free_port()
    doc = launch(lab, "--port", str(port))
    assert run(lab, "stop", doc["id"]).returncode == 0
    with socket.socket() as squatter:
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        moved = run(lab, "restart", doc["id"], "--json")
    assert moved.returncode == 0, moved.stderr
    new_port = json.loads(moved.stdout)["port"]
    assert new_port != port
    assert f"port {port} is taken now: {doc['id']} runs on port {new_port}" in moved.stderr


@pytest.mark.parametrize(
    "value", ["NOEQUALS", "1BAD=x", "A-B=x", "=x", "BAD NAME=x"], ids=lambda v: v or "empty"
)
def test_a_bad_env_is_refused_in_one_line_and_nothing_starts(lab: Path, value: str) -> None:
    result = run(lab, "launch", TAG, "--env", value)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "KEY=VALUE" in result.stderr
    assert not list(DataPaths(lab).instances_dir().glob("*.json"))


def test_the_env_value_is_never_echoed_in_an_error(lab: Path) -> None:
    result = run(lab, "launch", TAG, "--env", "hf_SecretTokenValue123")
    assert result.returncode == 2 and "hf_SecretTokenValue123" not in result.stderr

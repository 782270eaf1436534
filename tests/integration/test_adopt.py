"""`comfy-tui adopt PATH`: an existing ComfyUI folder becomes a version without moving a byte.

It is launched like any version (its own venv's interpreter, the model library wired in),
`remove` only forgets it (the folder stays, file for file), its own custom nodes are listed
with origin and commit and can be shared, and a bad path is one line, exit 2, nothing changed.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import psutil
import pytest

from comfy_tui.paths import DataPaths
from comfy_tui.store.instance_records import load_instance
from tests.fakes import models as fm
from tests.fakes.adoptable import add_node, git, listing, make_clone, make_portable, make_venv
from tests.fakes.installed_version import install_fake_version
from tests.fakes.instance_lab import free_port
from tests.fakes.node_repo import NodeMirror
from tests.integration.test_cli import run

pytestmark = pytest.mark.usefixtures("no_leftover_children")


def adopt(data_dir: Path, *args: str) -> dict[str, Any]:
    result = run(data_dir, "adopt", *args, "--json")
    assert result.returncode == 0, result.stderr
    doc: dict[str, Any] = json.loads(result.stdout)
    return doc


def get(port: int, route: str) -> Any:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{route}", timeout=10) as answer:
        return json.loads(answer.read())


def test_an_adopted_clone_launches_with_the_library_and_remove_keeps_its_folder(
    tmp_path: Path, data_dir: Path
) -> None:
    checkout = make_clone(tmp_path / "ComfyUI")
    own_model = checkout / "models" / "checkpoints" / "own.safetensors"
    fm.write_safetensors(own_model, fm.sd15_checkpoint())
    before = listing(checkout)
    doc = adopt(data_dir, str(checkout), "--name", "mine")
    assert doc["tag"] == "mine" and doc["adopted"] == str(checkout)
    assert doc["path"] == str(checkout)
    assert doc["python"] == str(checkout / ".venv" / "bin" / "python")
    assert doc["commit"] == git(checkout, "rev-parse", "HEAD")
    assert doc["comfyui_version"] == "0.3.77" and "--port" in doc["flags"]
    assert not DataPaths(data_dir).version_dir("mine").exists(), "nothing is copied"
    listed = run(data_dir, "versions").stdout
    assert f"mine: adopted, left in place at {checkout} (remove only forgets it)" in listed

    library = DataPaths(data_dir).library_models()
    fm.write_safetensors(
        library / "checkpoints" / "dream.safetensors", fm.sd15_checkpoint(), salt=b"lib"
    )
    imported = run(data_dir, "models", "import", str(checkout / "models"), "--link")
    assert imported.returncode == 0, imported.stderr
    assert (library / "checkpoints" / "own.safetensors").stat().st_ino == own_model.stat().st_ino
    port = free_port()
    try:
        launched = run(data_dir, "launch", "mine", "--port", str(port), "--json")
        assert launched.returncode == 0, launched.stderr
        assert sorted(get(port, "/models/checkpoints")) == ["dream.safetensors", "own.safetensors"]
        record = load_instance(DataPaths(data_dir), json.loads(launched.stdout)["id"])
        assert record is not None and record.pid is not None
        argv = psutil.Process(record.pid).cmdline()
        assert argv[0] == str(checkout / ".venv" / "bin" / "python")
        assert argv[1] == str(checkout / "main.py")
        refused = run(data_dir, "remove", "mine", "--yes")
        assert refused.returncode == 1 and "is running" in refused.stderr
    finally:
        assert run(data_dir, "stop", "--all").returncode == 0

    removed = run(data_dir, "remove", "mine", "--yes", "--json")
    assert removed.returncode == 0, removed.stderr
    assert json.loads(removed.stdout) == {"removed": "mine", "kept": str(checkout)}
    assert listing(checkout) == before, "remove only forgets an adopted version"
    versions = json.loads(run(data_dir, "versions", "--json").stdout)
    assert versions["versions"] == []
    again = adopt(data_dir, str(checkout))  # forgotten, so it can be adopted again
    assert again["tag"] == "adopted-0.3.77"


def test_a_portable_folder_and_an_explicit_venv(tmp_path: Path, data_dir: Path) -> None:
    portable = make_portable(tmp_path / "ComfyUI_portable")
    doc = adopt(data_dir, str(portable))
    assert doc["path"] == str(portable / "ComfyUI")
    assert doc["python"] == str(portable / "python_embeded" / "bin" / "python")
    assert doc["installer"] == "adopted (python_embeded/ (portable))"

    elsewhere = make_venv(tmp_path / "envs" / "comfy")
    bare = tmp_path / "bare"
    make_clone(bare, env_dir="unused-env")
    doc = adopt(data_dir, str(bare), "--venv", str(tmp_path / "envs" / "comfy"))
    assert doc["python"] == str(elsewhere) and doc["tag"] == "adopted-0.3.77-2"


@pytest.mark.slow
def test_bad_paths_are_one_line_and_change_nothing(tmp_path: Path, data_dir: Path) -> None:
    checkout = make_clone(tmp_path / "ComfyUI")
    adopt(data_dir, str(checkout), "--name", "mine")
    no_env = tmp_path / "noenv"
    make_clone(no_env, env_dir="elsewhere")
    (tmp_path / "file.txt").write_text("x")
    (tmp_path / "empty").mkdir()
    install_fake_version(DataPaths(data_dir), "v0.3.77")
    records = DataPaths(data_dir).version_records_dir()
    state = listing(records)
    cases = {
        (str(tmp_path / "missing"),): "does not exist",
        (str(tmp_path / "file.txt"),): "is not a folder",
        (str(tmp_path / "empty"),): "is not a ComfyUI folder",
        (str(no_env),): "give it with --venv PATH",
        (str(no_env), "--venv", str(tmp_path / "nothere")): "is not a folder",
        (str(no_env), "--venv", str(tmp_path)): "has no bin/python",
        (str(checkout),): "is adopted already, as mine",
        (str(no_env), "--venv", str(checkout / ".venv"), "--name", "mine"): "exists already",
        (str(no_env), "--venv", str(checkout / ".venv"), "--name", "../x"): "invalid",
        (str(DataPaths(data_dir).version_dir("v0.3.77")),): "installed already",
    }
    for args, words in cases.items():
        result = run(data_dir, "adopt", *args)
        assert result.returncode == 2, (args, result.stderr)
        assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1, args
        assert result.stdout == ""
    assert listing(records) == state


@pytest.mark.slow
def test_own_nodes_are_listed_and_shared_at_their_commit(
    tmp_path: Path, data_dir: Path, node_mirror: NodeMirror
) -> None:
    node_mirror.add("ComfyUI-Thing")
    node_mirror.add("Local-Hack")
    checkout = make_clone(tmp_path / "ComfyUI")
    commit = add_node(checkout, node_mirror, "ComfyUI-Thing")
    hack = checkout / "custom_nodes" / "Local-Hack"
    git(checkout, "clone", "-q", str(node_mirror.bare("Local-Hack")), str(hack))
    git(hack, "remote", "remove", "origin")
    (checkout / "custom_nodes" / "single.py").write_text("NODE_CLASS_MAPPINGS = {}\n")
    before = listing(checkout)

    doc = adopt(data_dir, str(checkout), "--name", "mine")
    nodes = {n["name"]: n for n in doc["custom_nodes"]}
    assert nodes["ComfyUI-Thing"] == {
        "name": "ComfyUI-Thing",
        "kind": "git",
        "enabled": True,
        "origin": "https://github.com/example/ComfyUI-Thing",
        "commit": commit,
        "shared": False,
    }
    assert nodes["Local-Hack"]["origin"] == "" and nodes["single.py"]["kind"] == "file"
    text = run(data_dir, "adopt", str(checkout), "--name", "again")
    assert "is adopted already" in text.stderr

    shared = run(data_dir, "nodes", "adopt", "ComfyUI-Thing", "mine", "--json")
    assert shared.returncode == 0, shared.stderr
    listed = json.loads(run(data_dir, "nodes", "list", "--json").stdout)
    thing = next(n for n in listed["nodes"] if n["name"] == "ComfyUI-Thing")
    assert thing["commit"] == commit and thing["url"] == node_mirror.url("ComfyUI-Thing")
    copy = DataPaths(data_dir).node_dir("ComfyUI-Thing")
    assert git(copy, "config", "--get", "remote.origin.url") == node_mirror.url("ComfyUI-Thing")
    assert listing(checkout) == before, "the version's own copy is untouched"

    twice = run(data_dir, "nodes", "adopt", "ComfyUI-Thing", "mine")
    assert twice.returncode == 2 and "a shared node already" in twice.stderr
    no_origin = run(data_dir, "nodes", "adopt", "Local-Hack", "mine")
    assert no_origin.returncode == 2 and "no https origin" in no_origin.stderr
    missing = run(data_dir, "nodes", "adopt", "Nope", "mine")
    assert missing.returncode == 1 and "has no node Nope" in missing.stderr


def test_symlink_mapping_writes_nothing_into_an_adopted_folder(
    tmp_path: Path, data_dir: Path
) -> None:
    checkout = make_clone(tmp_path / "ComfyUI")
    adopt(data_dir, str(checkout), "--name", "mine")
    library = DataPaths(data_dir).library_models()
    fm.write_safetensors(library / "checkpoints" / "dream.safetensors", fm.sd15_checkpoint())
    before = listing(checkout)
    env = {"COMFY_TUI_MODEL_MAPPING": "symlinks"}
    port = free_port()
    try:
        launched = run(data_dir, "launch", "mine", "--port", str(port), env=env)
        assert launched.returncode == 0, launched.stderr
        assert get(port, "/models/checkpoints") == ["dream.safetensors"]
        argv = get(port, "/system_stats")["system"]["argv"]
        assert "--extra-model-paths-config" in argv, "the YAML, not links in its models/"
    finally:
        assert run(data_dir, "stop", "--all", env=env).returncode == 0
    assert listing(checkout) == before

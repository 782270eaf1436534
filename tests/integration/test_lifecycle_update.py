"""`update NAME [--to REF]` and `rollback NAME`: a moving branch is followed, the old checkout
and environment are the rollback point, the user's files and custom nodes come along."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from comfy_tui.services.faults import KILL_AT_ENV
from comfy_tui.settings import Settings
from tests.cli_run import run_cli
from tests.fakes.install_fixtures import cli_env, install_settings_for
from tests.fakes.moving_repo import advance, build_moving_repo

pytestmark = pytest.mark.usefixtures("no_leftover_children")


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(settings.data_dir, *args, env=cli_env(settings))


def ok(settings: Settings, *args: str) -> dict[str, object]:
    result = cli(settings, *args, "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert isinstance(document, dict)
    return document


@pytest.fixture
def moving(tmp_path: Path, data_dir: Path, wheelhouse: Path) -> tuple[Settings, Path]:
    bare = build_moving_repo(tmp_path / "upstream")
    return install_settings_for(data_dir, bare, wheelhouse), bare


@pytest.mark.slow
def test_update_follows_the_branch_and_rollback_goes_back_and_forth(
    moving: tuple[Settings, Path], data_dir: Path
) -> None:
    settings, bare = moving
    name = str(ok(settings, "install", "master", "--torch", "cpu")["tag"])
    first = str(ok(settings, "versions")["versions"][0]["commit"])  # type: ignore[index]
    folder = data_dir / "versions" / name
    (folder / "user" / "default").mkdir(parents=True)
    (folder / "user" / "default" / "flow.json").write_text("{}")
    (folder / "output").mkdir(exist_ok=True)
    (folder / "output" / "img.png").write_text("png")
    own = folder / "custom_nodes" / "MyNode"
    own.mkdir(parents=True)
    (own / "__init__.py").write_text("NODE_CLASS_MAPPINGS = {}\n")
    broken = folder / "custom_nodes" / "Broken"
    broken.mkdir()
    (broken / "__init__.py").write_text("import not_installed_anywhere\n")

    same = ok(settings, "update", name)
    assert same["changed"] is False and same["commit"] == first

    newer = advance(bare, "master", "0.4.2.dev1", files={"newfile.py": "X = 1\n"})
    result = cli(settings, "update", name, "--json")
    assert result.returncode == 0, result.stderr
    updated = json.loads(result.stdout)
    assert updated["changed"] is True and updated["commit"] == newer
    assert updated["previous_commit"] == first and updated["comfyui_version"] == "0.4.2.dev1"
    assert "custom node Broken: missing dependency: No module named" in result.stderr
    assert (folder / "newfile.py").is_file()
    assert (folder / "user" / "default" / "flow.json").read_text() == "{}"
    assert (folder / "output" / "img.png").read_text() == "png"
    assert (folder / "custom_nodes" / "MyNode" / "__init__.py").is_file()
    point = data_dir / "versions" / f".rollback-{name}"
    assert point.is_dir() and not (point / "newfile.py").exists()
    assert not (point / "user").exists()

    back = ok(settings, "rollback", name)
    assert back == {"name": name, "undone": "update", "commit": first}
    assert not (folder / "newfile.py").exists()
    assert (folder / "user" / "default" / "flow.json").read_text() == "{}"
    assert (folder / "output" / "img.png").read_text() == "png"
    assert (point / "newfile.py").is_file()
    launched = cli(settings, "launch", name, "--json")
    assert launched.returncode == 0, launched.stderr
    refused = cli(settings, "update", name)
    assert refused.returncode == 1
    assert f"cannot update {name}" in refused.stderr and "stop it with" in refused.stderr
    assert cli(settings, "stop", "--all").returncode == 0

    forward = ok(settings, "rollback", name)
    assert forward["commit"] == newer


def test_update_of_a_release_needs_to_and_moves_by_tag(moving: tuple[Settings, Path]) -> None:
    settings, _ = moving
    ok(settings, "install", "v0.3.77", "--torch", "cpu")
    refused = cli(settings, "update", "v0.3.77")
    assert refused.returncode == 2
    assert "does not move: give --to REF" in refused.stderr
    moved = ok(settings, "update", "v0.3.77", "--to", "v0.4.0")
    assert moved["comfyui_version"] == "0.4.0" and moved["ref"] == "v0.4.0"
    assert "--enable-manager" in moved["flags"]  # type: ignore[operator]
    assert cli(settings, "update", "v0.3.77", "--to", "a..b").returncode == 2
    assert cli(settings, "rollback", "v0.3.60").returncode == 1


@pytest.mark.parametrize(
    ("step", "settled", "on_new"),
    [
        ("update.aside", "is back as it was", False),
        ("update.swapped", "it is finished now", True),
    ],
)
def test_an_update_killed_mid_swap_is_settled_by_the_next_command(
    moving: tuple[Settings, Path], data_dir: Path, step: str, settled: str, on_new: bool
) -> None:
    settings, bare = moving
    name = str(ok(settings, "install", "master", "--torch", "cpu")["tag"])
    folder = data_dir / "versions" / name
    (folder / "output").mkdir(exist_ok=True)
    (folder / "output" / "img.png").write_text("png")
    newer = advance(bare, "master", "0.4.2.dev1")
    env = {**cli_env(settings), KILL_AT_ENV: step}
    killed = run_cli(data_dir, "update", name, env=env)
    assert killed.returncode == -9, killed.stderr
    listed = cli(settings, "versions", "--json")
    assert f"the update of {name} was interrupted: " in listed.stderr
    assert settled in listed.stderr
    (record,) = json.loads(listed.stdout)["versions"]
    assert (record["commit"] == newer) is on_new
    assert (folder / "output" / "img.png").read_text() == "png"
    assert cli(settings, "launch", name).returncode == 0
    assert cli(settings, "stop", "--all").returncode == 0
    assert "interrupted" not in cli(settings, "versions").stderr

"""`install REF [--name NAME]`: a branch or a commit installs like a tag, named after it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from comfy_tui.settings import Settings
from tests.cli_run import run_cli
from tests.fakes.install_fixtures import cli_env, install_settings_for
from tests.fakes.moving_repo import advance, build_moving_repo

pytestmark = pytest.mark.usefixtures("no_leftover_children")


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(settings.data_dir, *args, env=cli_env(settings))


@pytest.fixture
def moving(tmp_path: Path, data_dir: Path, wheelhouse: Path) -> tuple[Settings, Path]:
    bare = build_moving_repo(tmp_path / "upstream")
    return install_settings_for(data_dir, bare, wheelhouse), bare


def test_install_master_a_commit_and_a_named_branch(moving: tuple[Settings, Path]) -> None:
    settings, bare = moving
    head = subprocess.run(
        ["git", "-C", str(bare), "rev-parse", "master"], capture_output=True, text=True, check=True
    ).stdout.strip()
    result = cli(settings, "install", "master", "--torch", "cpu", "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["tag"] == f"master-{head[:7]}"
    assert record["commit"] == head and record["ref"] == "master"
    assert record["comfyui_version"] == "0.4.1.dev1"
    assert record["smoke"] == "packages quick-tested in" or record["smoke"]

    v077 = subprocess.run(
        ["git", "-C", str(bare), "rev-parse", "v0.3.77^{commit}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    by_commit = cli(settings, "install", v077[:10], "--torch", "cpu", "--json")
    assert by_commit.returncode == 0, by_commit.stderr
    assert json.loads(by_commit.stdout)["tag"] == v077[:7]

    feature = advance(bare, "feature/x", "0.5.0.dev1")
    named = cli(settings, "install", "feature/x", "--name", "fx", "--torch", "cpu", "--json")
    assert named.returncode == 0, named.stderr
    assert json.loads(named.stdout)["commit"] == feature

    listed = json.loads(cli(settings, "versions", "--json").stdout)
    newer = {v["tag"]: v["newer_releases"] for v in listed["versions"]}
    assert newer[v077[:7]] == ["v0.4.0"]
    assert newer[f"master-{head[:7]}"] == [] and newer["fx"] == []
    text = cli(settings, "versions").stdout
    assert f"{v077[:7]}: newer releases in the mirror: v0.4.0" in text
    assert f"{head[:7]} (master)" in text


def test_bad_refs_exit_2_and_unknown_refs_exit_1(moving: tuple[Settings, Path]) -> None:
    settings, _ = moving
    for bad in ("feature//x", "x@{1}", "a..b", "x/.y"):
        result = cli(settings, "install", bad)
        assert result.returncode == 2, (bad, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1
    missing = cli(settings, "install", "no-such-branch")
    assert missing.returncode == 1
    assert "ComfyUI has no tag, branch or commit no-such-branch" in missing.stderr
    assert cli(settings, "install", "master", "--name", "../x").returncode == 2

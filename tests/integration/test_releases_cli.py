"""`comfy-tui releases` as a script sees it, against a fake GitHub on loopback."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from comfy_tui.paths import DataPaths
from comfy_tui.store.version_records import VersionRecord, save_record, set_default
from tests.cli_run import run_cli
from tests.fakes.fake_github import FakeGitHub, ThreadedFakeGitHub, release

RELEASES = [
    release("v0.3.76", "2025-11-14T10:00:00Z"),
    release("v0.4.0-rc1", "2025-11-28T10:00:00Z", prerelease=True),
    release("v0.3.77", "2025-11-21T10:00:00Z"),
    release("v0.4.0", "2025-12-05T10:00:00Z"),
]


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with ThreadedFakeGitHub(FakeGitHub(releases=list(RELEASES))) as fake:
        yield fake


def run(data_dir: Path, api: str, *args: str, token: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMFY_TUI_", "GITHUB_"))}
    env["COMFY_TUI_GITHUB_API"] = api
    if token:
        env["GITHUB_TOKEN"] = token
    return run_cli(data_dir, "releases", *args, env=env)


def install_record(data_dir: Path, tag: str) -> None:
    paths = DataPaths(data_dir)
    save_record(paths, VersionRecord(tag=tag, path=f"/x/{tag}", python="/x/python"))


def test_table_newest_first_with_markers_and_no_prereleases(
    data_dir: Path, github: FakeGitHub
) -> None:
    install_record(data_dir, "v0.3.77")
    install_record(data_dir, "v0.3.76")
    set_default(DataPaths(data_dir), "v0.3.77")
    result = run(data_dir, github.url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["TAG", "DATE", "INSTALLED", "PRE", "SIZE"]
    assert [line.split()[0] for line in lines[1:]] == ["v0.4.0", "v0.3.77", "v0.3.76"]
    assert lines[2].split() == ["v0.3.77", "2025-11-21", "installed,", "default"]
    assert lines[3].split() == ["v0.3.76", "2025-11-14", "installed"]
    assert "3 release(s) from GitHub" in result.stderr
    assert "1 prerelease(s) hidden" in result.stderr


def test_all_shows_prereleases_flagged(data_dir: Path, github: FakeGitHub) -> None:
    result = run(data_dir, github.url, "--all")
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()[1:]]
    assert rows[1] == ["v0.4.0-rc1", "2025-11-28", "pre"]
    assert len(rows) == 4


def test_json_document(data_dir: Path, github: FakeGitHub) -> None:
    install_record(data_dir, "v0.4.0")
    result = run(data_dir, github.url, "--json", "--all")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["source"] == "github" and doc["warning"] is None and doc["include_prereleases"]
    assert [r["tag"] for r in doc["releases"]] == ["v0.4.0", "v0.4.0-rc1", "v0.3.77", "v0.3.76"]
    top = doc["releases"][0]
    assert top["installed"] is True and top["default"] is False and top["prerelease"] is False
    assert top["published_at"] == "2025-12-05T10:00:00Z"


def test_the_cache_is_used_until_refresh(data_dir: Path, github: FakeGitHub) -> None:
    assert run(data_dir, github.url).returncode == 0
    second = run(data_dir, github.url, "--json")
    assert len(github.requests) == 1
    assert json.loads(second.stdout)["source"] == "cache"
    third = run(data_dir, github.url, "--refresh", "--json")
    assert len(github.requests) == 2 and "If-None-Match" in github.requests[1].headers
    assert json.loads(third.stdout)["source"] == "github"


def test_rate_limit_serves_the_cache_with_a_warning(data_dir: Path, github: FakeGitHub) -> None:
    assert run(data_dir, github.url).returncode == 0
    github.script = ["primary"]
    result = run(data_dir, github.url, "--refresh")
    assert result.returncode == 0
    assert "v0.4.0" in result.stdout
    assert "GitHub rate limit, resets at" in result.stderr
    assert "showing releases cached just now" in result.stderr


def test_nothing_at_all_is_one_line_and_exit_1(data_dir: Path, github: FakeGitHub) -> None:
    github.script = ["forbidden"]
    result = run(data_dir, github.url)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "comfy-tui: no ComfyUI releases known: GitHub refused the request (HTTP 403: Resource"
        " not accessible); nothing is cached and there is no local mirror yet"
    ]
    assert "Traceback" not in result.stderr


def test_token_is_sent_and_never_logged(data_dir: Path, github: FakeGitHub) -> None:
    token = "ghp_" + "Zz9" * 12
    result = run(data_dir, github.url, token=token)
    assert result.returncode == 0
    assert github.requests[0].headers["Authorization"] == f"Bearer {token}"
    log = (data_dir / "logs" / "comfy-tui.log").read_text()
    assert "releases" in log and token not in log
    assert token not in result.stdout + result.stderr

"""`comfy-tui versions|install|remove|default` as a script sees them, and a kill -9 mid-install."""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from comfy_tui.settings import Settings
from tests.cli_run import at_a_terminal, comfy_argv
from tests.fakes.install_fixtures import cli_env, processes_under
from tests.waiting import LAST_RESORT_S, wait_until

pytestmark = pytest.mark.usefixtures("no_leftover_children")


def cli(
    settings: Settings, *args: str, stdin: int | None = subprocess.DEVNULL
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "comfy_tui", "--data-dir", str(settings.data_dir), *args],
        capture_output=True,
        text=True,
        env=cli_env(settings),
        stdin=stdin,
        timeout=300,
        check=False,
    )


def test_install_list_default_remove(install_settings: Settings, data_dir: Path) -> None:
    result = cli(install_settings, "install", "v0.3.77", "--torch", "cpu", "--json")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["tag"] == "v0.3.77" and record["torch_version"] == "2.5.1+cpu"
    assert record["default"] is False
    assert "[" in result.stderr and "clone" in result.stderr and "uv:" in result.stderr

    text = cli(install_settings, "versions")
    assert text.returncode == 0
    assert "v0.3.77" in text.stdout and "2.5.1+cpu" in text.stdout

    assert cli(install_settings, "default", "v0.3.77").returncode == 0
    listed = json.loads(cli(install_settings, "versions", "--json").stdout)
    assert listed["default"] == "v0.3.77"
    assert [v["tag"] for v in listed["versions"]] == ["v0.3.77"]
    assert listed["versions"][0]["default"] is True

    refused = cli(install_settings, "remove", "v0.3.77")  # no TTY, no --yes
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "comfy-tui: removing v0.3.77 needs confirmation: run it on a terminal or add --yes"
    ]
    assert (data_dir / "versions" / "v0.3.77").is_dir()

    removed = cli(install_settings, "remove", "v0.3.77", "--yes")
    assert removed.returncode == 0, removed.stderr
    listed = json.loads(cli(install_settings, "versions", "--json").stdout)
    assert listed == {
        "default": None,
        "total_disk_bytes": listed["total_disk_bytes"],
        "versions": [],
    }
    assert listed["total_disk_bytes"] < 64 * 1024  # the empty versions/ folder (and staging)


def test_install_text_output(install_settings: Settings) -> None:
    result = cli(install_settings, "install", "v0.4.0")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("installed v0.4.0 (ComfyUI 0.4.0) at ")


@pytest.mark.parametrize("tag", ["../x", "v1;rm -rf ~", ""])
def test_invalid_tags_exit_2_before_git_runs(
    install_settings: Settings, data_dir: Path, tag: str
) -> None:
    result = cli(install_settings, "install", tag)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "invalid version tag" in lines[0]
    assert sorted(p.name for p in data_dir.iterdir()) == ["logs"]  # only our own log


def test_bad_torch_value_exits_2(install_settings: Settings) -> None:
    result = cli(install_settings, "install", "v0.4.0", "--torch", "cuda12")
    assert result.returncode == 2
    assert "invalid torch build 'cuda12'" in result.stderr


def test_missing_tag_and_unreachable_repo_exit_1(
    install_settings: Settings, data_dir: Path, tmp_path: Path
) -> None:
    missing = cli(install_settings, "install", "v9.9.9")
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines()[-1].startswith("comfy-tui: ComfyUI has no tag")
    assert list((data_dir / "versions").iterdir()) == []

    gone = Settings(
        data_dir=tmp_path / "d2",
        comfyui_repo=(tmp_path / "nowhere.git").as_uri(),
        find_links=install_settings.find_links,
        python=sys.executable,
    )
    unreachable = cli(gone, "install", "v0.4.0")
    assert unreachable.returncode == 1
    assert "cannot clone ComfyUI from" in unreachable.stderr.strip().splitlines()[-1]
    assert "Traceback" not in unreachable.stderr


def test_default_and_remove_of_what_is_not_installed(install_settings: Settings) -> None:
    for args in (["default", "v0.3.77"], ["remove", "v0.3.77", "--yes"]):
        result = cli(install_settings, *args)
        assert result.returncode == 1
        assert result.stderr.strip() == "comfy-tui: v0.3.77 is not installed"
    assert cli(install_settings, "default", "--clear").returncode == 0
    assert cli(install_settings, "default").returncode == 2


def test_kill_9_mid_install_then_a_fresh_start_cleans_up(
    install_settings: Settings, data_dir: Path
) -> None:
    versions = data_dir / "versions"
    proc = subprocess.Popen(
        [sys.executable, "-m", "comfy_tui", "--data-dir", str(data_dir), "install", "v0.5.0"],
        env=cli_env(install_settings),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:

        def smoke_running() -> bool:
            return any(
                "--quick-test-for-ci" in (p.info["cmdline"] or [])
                for p in processes_under(versions)
            )

        wait_until(smoke_running, "the smoke test of v0.5.0 to start")
        staging = [p for p in versions.iterdir() if p.name.startswith(".staging-v0.5.0-")]
        assert len(staging) == 1
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        wait_until(lambda: not processes_under(versions), "the orphaned children to die")
        assert staging[0].exists()  # a crash leaves the staging dir behind...
        assert not (data_dir / "metadata" / "versions" / "v0.5.0.json").exists()
    finally:
        if proc.poll() is None:
            proc.kill()

    fresh = cli(install_settings, "install", "v0.4.0")  # ...and the next run removes it
    assert fresh.returncode == 0, fresh.stderr
    assert "removed the stale .staging-v0.5.0-" in fresh.stderr
    assert sorted(p.name for p in versions.iterdir()) == ["v0.4.0"]
    listed = json.loads(cli(install_settings, "versions", "--json").stdout)
    assert [v["tag"] for v in listed["versions"]] == ["v0.4.0"]


def test_a_second_process_cannot_install_the_same_tag(
    install_settings: Settings, data_dir: Path
) -> None:
    versions = data_dir / "versions"
    proc = subprocess.Popen(
        at_a_terminal(comfy_argv(data_dir, "install", "v0.5.0")),  # Ctrl-C works on it
        env=cli_env(install_settings),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: versions.exists() and any(versions.iterdir()), "the staging dir")
        second = cli(install_settings, "install", "v0.5.0")
        assert second.returncode == 1
        assert second.stderr.strip() == "comfy-tui: v0.5.0 is already being installed"
        proc.send_signal(signal.SIGINT)  # Ctrl-C: the CLI cancels and cleans up
        assert proc.wait(timeout=LAST_RESORT_S) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
    wait_until(lambda: not processes_under(versions), "the install's children to die")
    assert list(versions.iterdir()) == []


@pytest.mark.parametrize(("answer", "code"), [("y\n", 0), ("n\n", 1), ("\n", 1)])
def test_remove_asks_on_a_terminal(
    install_settings: Settings, data_dir: Path, answer: str, code: int
) -> None:
    assert cli(install_settings, "install", "v0.4.0").returncode == 0
    controller, terminal = pty.openpty()
    try:
        os.write(controller, answer.encode())
        result = cli(install_settings, "remove", "v0.4.0", stdin=terminal)
    finally:
        os.close(terminal)
        os.close(controller)
    assert result.returncode == code, result.stderr
    assert "Remove ComfyUI v0.4.0 (" in result.stderr and "[y/N]" in result.stderr
    assert (data_dir / "versions" / "v0.4.0").exists() == (code != 0)

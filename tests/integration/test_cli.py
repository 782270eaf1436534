"""The command line as a script sees it: a real `python -m comfy_tui` process, exit codes."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from comfy_tui import __version__
from comfy_tui.cli.handlers import HANDLERS, handler_for
from comfy_tui.cli.parser import build_parser
from tests.cli_run import run_cli


def run(
    data_dir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("COMFY_TUI_", "HF_"))}
    full_env.pop("GITHUB_TOKEN", None)
    full_env.update(env or {})
    return run_cli(data_dir, *args, env=full_env)


def test_version(data_dir: Path) -> None:
    result = run(data_dir, "--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"comfy-tui {__version__}"


def test_config_json_masks_tokens_and_logs_none(data_dir: Path) -> None:
    secret = "hf_ThisIsASecretToken123"
    result = run(data_dir, "config", "--json", env={"HF_TOKEN": secret, "GITHUB_TOKEN": "ghx"})
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["hf_token"] == "***"
    assert document["github_token"] == "***"
    assert document["data_dir"] == str(data_dir)
    assert secret not in result.stdout + result.stderr
    log = (data_dir / "logs" / "comfy-tui.log").read_text()
    assert secret not in log and "ghx" not in log


def test_config_text(data_dir: Path) -> None:
    result = run(data_dir, "config")
    assert result.returncode == 0
    assert "base_port = 8188" in result.stdout


def test_data_dir_env_is_used(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMFY_TUI_")}
    env["COMFY_TUI_HOME"] = str(tmp_path / "home")
    result = subprocess.run(
        [sys.executable, "-m", "comfy_tui", "config", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert json.loads(result.stdout)["data_dir"] == str(tmp_path / "home")


def _leaf_commands(parser: argparse.ArgumentParser, prefix: str = "") -> list[str]:
    names = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                full = f"{prefix} {name}".strip()
                names += _leaf_commands(sub, full) or [full]
    return names


def test_every_subcommand_of_the_contract_has_a_handler() -> None:
    leaves = _leaf_commands(build_parser())
    assert "models download" in leaves and "snapshot restore" in leaves
    missing = [name for name in leaves if name not in HANDLERS]
    assert missing == []


@pytest.mark.parametrize(
    "args",
    [
        ["versions", "--json"],
        ["ps", "--json"],
        ["stop", "--all"],
        ["models", "list", "--json"],
        ["nodes", "list"],
        ["snapshot", "list", "v0.3.77"],
    ],
)
def test_read_only_subcommands_work_on_an_empty_data_dir(data_dir: Path, args: list[str]) -> None:
    result = run(data_dir, *args)
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 1), result.stderr
    if "--json" in args:
        json.loads(result.stdout)


@pytest.mark.parametrize(
    "args",
    [
        ["frobnicate"],
        ["config", "--bogus"],
        ["install"],
        ["models"],
        ["launch", "--port", "abc"],
        ["versions", "--", "x"],
        ["stop"],
    ],
)
def test_bad_usage_exits_2_with_usage(data_dir: Path, args: list[str]) -> None:
    result = run(data_dir, *args)
    assert result.returncode == 2
    assert "usage:" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ("base_port = 'eighty'", "key 'base_port'"),
        ("nonsense = 1", "unknown key 'nonsense'"),
        ("[broken", "malformed TOML"),
    ],
)
def test_bad_settings_give_one_line_and_exit_2(data_dir: Path, toml: str, needle: str) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "settings.toml").write_text(toml)
    result = run(data_dir, "config")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert needle in lines[0] and "settings.toml" in lines[0]


def test_every_handler_entry_resolves() -> None:
    from comfy_tui.cli.handlers import HANDLERS

    for name in HANDLERS:
        assert callable(handler_for(name)), name

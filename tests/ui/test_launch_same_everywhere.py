"""The same launch from everywhere: a ComfyUI launched from the TUI's dialog (Pilot) and one
launched by `comfy-tui launch` get the same command line (model library, user and temp
folders, GPU choice) and see the same models; the dialog's environment field reaches it."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from textual.widgets import Input

from comfy_tui.paths import DataPaths
from comfy_tui.store.instance_records import InstanceRecord, list_instances
from comfy_tui.ui.dialogs.launch import LaunchScreen
from comfy_tui.ui.screens.instances import InstancesScreen
from tests.fakes import models as fm
from tests.fakes.installed_version import install_fake_version
from tests.fakes.instance_lab import free_port, stop_everything
from tests.ui.app_factory import LARGE
from tests.ui.instances_lab import real_app
from tests.waiting import until

TAG = "v0.3.77"
CLI = (sys.executable, "-m", "comfy_tui", "--data-dir")
CLI_ENV = ("--env", "FAKE_GREETING=from a shell")


@pytest.fixture
async def data_dir(tmp_path: Path) -> AsyncIterator[Path]:
    root = tmp_path / "data"
    paths = DataPaths(root)
    install_fake_version(paths, TAG)
    fm.write_safetensors(
        paths.library_models() / "checkpoints" / "dream.safetensors", fm.sd15_checkpoint()
    )
    yield root
    await stop_everything(root)


def models(port: int) -> Any:
    url = f"http://127.0.0.1:{port}/models/checkpoints"
    with urllib.request.urlopen(url, timeout=10) as answer:
        return json.loads(answer.read())


def normalized(record: InstanceRecord) -> list[str]:
    """The command line with what differs per instance (its port, its id) replaced."""
    return [a.replace(record.id, "ID") if a != str(record.port) else "PORT" for a in record.argv]


async def test_the_tui_and_the_cli_launch_the_same_comfyui(data_dir: Path) -> None:
    cli_port, tui_port = free_port(), free_port() + 50
    launched = await asyncio.to_thread(
        subprocess.run,
        [*CLI, str(data_dir), "launch", TAG, "--port", str(cli_port), *CLI_ENV, "--json"],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert launched.returncode == 0, launched.stderr
    cli_id = json.loads(launched.stdout)["id"]

    app = real_app(data_dir)
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("4")
        await until(pilot, lambda: isinstance(app.screen, InstancesScreen))
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LaunchScreen))
        app.screen.query_one("#launch-port", Input).value = str(tui_port)
        app.screen.query_one("#launch-env", Input).value = "FAKE_GREETING='from the TUI'"
        await pilot.click("#launch-go")

        def tui_record() -> InstanceRecord | None:
            found = [r for r in list_instances(DataPaths(data_dir)) if r.id != cli_id]
            return found[0] if found and found[0].state == "running" else None

        await until(pilot, lambda: tui_record() is not None)
    by_id = {r.id: r for r in list_instances(DataPaths(data_dir))}
    cli, tui = by_id.pop(cli_id), next(iter(by_id.values()))
    assert normalized(cli) == normalized(tui)
    assert "--extra-model-paths-config" in cli.argv
    assert models(cli.port) == models(tui.port) == ["dream.safetensors"]
    assert (cli.user_env, tui.user_env) == (
        {"FAKE_GREETING": "from a shell"},
        {"FAKE_GREETING": "from the TUI"},
    )
    assert tui.pid is not None
    assert psutil.Process(tui.pid).environ()["FAKE_GREETING"] == "from the TUI"


async def test_a_bad_environment_in_the_dialog_is_shown_and_nothing_starts(
    data_dir: Path,
) -> None:
    app = real_app(data_dir)
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("4")
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LaunchScreen))
        dialog = app.screen
        dialog.query_one("#launch-env", Input).value = "1BAD=x"
        await pilot.click("#launch-go")
        assert isinstance(app.screen, LaunchScreen)
        assert "KEY=VALUE" in str(dialog.query_one("#launch-error").render())
    assert list_instances(DataPaths(data_dir)) == []

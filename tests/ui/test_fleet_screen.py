"""The Fleet screen over real SSH (in-process asyncssh servers running the real `comfy-tui`):
rows arrive host by host, a launch on one host from the TUI works end to end, its port is
forwarded, and it is stopped; a slow host holds only its own row, a dropping one shows down."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable, Input, OptionList

from comfy_tui import __version__
from comfy_tui.core.fleet_hosts import HostSpec
from comfy_tui.services.fleet.state import from_remote
from comfy_tui.settings import load_settings
from comfy_tui.ui.dialogs.add_download import AddDownloadScreen
from comfy_tui.ui.dialogs.confirm import ConfirmScreen
from comfy_tui.ui.dialogs.launch import LaunchScreen
from comfy_tui.ui.dialogs.pick import PickScreen
from comfy_tui.ui.dialogs.text_input import TextInputScreen
from comfy_tui.ui.screens.fleet import FleetScreen, detail_text
from comfy_tui.ui.screens.fleet_log import FleetLogScreen
from comfy_tui.ui.widgets.log_pane import LogPane
from tests.fakes import models as fm
from tests.fakes.download_server import DownloadServer
from tests.fakes.installed_version import install_fake_version
from tests.fakes.instance_lab import stop_everything
from tests.fakes.ssh_hosts import SshLab
from tests.ui.app_factory import LARGE, make_test_app
from tests.waiting import until


def row_text(screen: FleetScreen, name: str) -> str:
    table = screen.query_one(DataTable)
    return " ".join(str(cell) for cell in table.get_row(name))


@pytest.mark.slow
async def test_fleet_screen_launches_forwards_and_stops_on_a_host(
    ssh_lab: SshLab, tmp_path: Path
) -> None:
    good = await ssh_lab.add("gpu-a")
    slow = await ssh_lab.add("gpu-b", "slow")
    await ssh_lab.add("gpu-c", "drop")
    ssh_lab.known_hosts()
    install_fake_version(good.paths, "v0.3.77")
    client = tmp_path / "client"
    client.mkdir()
    (client / "settings.toml").write_text(ssh_lab.hosts_toml())
    hosts = load_settings(client, {}).hosts
    app = make_test_app(client, settings={"hosts": hosts})
    try:
        async with app.run_test(size=LARGE) as pilot:
            await pilot.press("6")
            screen = app.screen
            assert isinstance(screen, FleetScreen)
            states: Any = screen.states
            await until(
                pilot,
                lambda: states["gpu-a"].state == "ok" and states["gpu-c"].state == "down",
            )
            assert states["gpu-b"].state == "checking" and not slow.release.is_set()
            assert "1× H200" in row_text(screen, "gpu-a")
            assert "dropped" in row_text(screen, "gpu-c")

            await pilot.press("l")
            await until(pilot, lambda: isinstance(app.screen, LaunchScreen))
            await pilot.click("#launch-go")
            await until(pilot, lambda: app.screen is screen)
            await until(pilot, lambda: any(i.live for i in states["gpu-a"].instances))
            assert "v0.3.77 :" in row_text(screen, "gpu-a")

            await pilot.press("g")  # the remote log, read over the same connection
            await until(pilot, lambda: isinstance(app.screen, FleetLogScreen))
            pane = app.screen.query_one(LogPane)
            await until(pilot, lambda: pane.line_count > 0)
            await pilot.press("escape")
            await until(pilot, lambda: app.screen is screen)

            await pilot.press("o")
            await until(
                pilot,
                lambda: "→ http://localhost:" in str(screen.query_one("#fleet-status").render()),
            )
            assert states["gpu-a"].forwards

            await pilot.press("x")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await until(
                pilot,
                lambda: (
                    states["gpu-a"].state == "ok"
                    and not any(i.live for i in states["gpu-a"].instances)
                ),
                timeout=60,
            )
    finally:
        await stop_everything(good.data_dir)


async def test_bulk_stop_by_tag_reports_each_host(ssh_lab: SshLab, tmp_path: Path) -> None:
    good = await ssh_lab.add("gpu-a")
    await ssh_lab.add("gpu-c", "drop")
    ssh_lab.known_hosts()
    client = tmp_path / "client"
    client.mkdir()
    (client / "settings.toml").write_text(ssh_lab.hosts_toml())
    app = make_test_app(client, settings={"hosts": load_settings(client, {}).hosts})
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("6")
        screen = app.screen
        assert isinstance(screen, FleetScreen)
        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, PickScreen))
        app.screen.query_one(OptionList).highlighted = 1  # "Stop every instance"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TextInputScreen))
        await pilot.press(*"lab", "enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        status = screen.query_one("#fleet-status")
        await until(pilot, lambda: "1 of 2 host(s) done" in str(status.render()))
        text = str(status.render())
        assert "gpu-a: ok" in text and "gpu-c: failed" in text
    assert [a[1:3] for a in good.argvs()].count(["stop", "--all"]) == 1


def test_another_comfy_tui_version_is_said() -> None:
    spec = HostSpec("a", "10.0.0.1")
    older = from_remote(spec, "comfy-tui 0.0.9", {}, [])
    assert f"comfy-tui 0.0.9 (here: {__version__})" in detail_text(older)
    same = from_remote(spec, f"comfy-tui {__version__}", {}, [])
    assert "(here:" not in detail_text(same)


async def test_download_dialog_downloads_on_the_host(ssh_lab: SshLab, tmp_path: Path) -> None:
    host = await ssh_lab.add("gpu-a")
    ssh_lab.known_hosts()
    client = tmp_path / "client"
    client.mkdir()
    (client / "settings.toml").write_text(ssh_lab.hosts_toml())
    app = make_test_app(client, settings={"hosts": load_settings(client, {}).hosts})
    data = fm.safetensors_bytes(fm.sd15_lora())
    async with DownloadServer() as server, app.run_test(size=LARGE) as pilot:
        url = server.add("/files/style.safetensors", data)
        await pilot.press("6")
        screen = app.screen
        assert isinstance(screen, FleetScreen)
        await until(pilot, lambda: screen.states["gpu-a"].state == "ok")
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, AddDownloadScreen))
        dialog = app.screen
        dialog.query_one("#download-source", Input).value = url
        dialog.query_one("#download-folder", Input).value = "loras"
        dialog.query_one("#download-sha256", Input).focus()
        await pilot.press("enter")
        status = screen.query_one("#fleet-status")
        await until(pilot, lambda: "downloaded" in str(status.render()))
    target = host.data_dir / "library" / "models" / "loras" / "style.safetensors"
    assert target.read_bytes() == data


async def test_install_key_installs_on_the_host_and_launch_lists_it(
    ssh_lab: SshLab, tmp_path: Path, fake_upstream: Path, wheelhouse: Path
) -> None:
    host = await ssh_lab.add("gpu-a")
    host.install_from(fake_upstream, wheelhouse)
    ssh_lab.known_hosts()
    client = tmp_path / "client"
    client.mkdir()
    (client / "settings.toml").write_text(ssh_lab.hosts_toml())
    app = make_test_app(client, settings={"hosts": load_settings(client, {}).hosts})
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("6")
        screen = app.screen
        assert isinstance(screen, FleetScreen)
        await until(pilot, lambda: screen.states["gpu-a"].state == "ok")
        await pilot.press("l")  # nothing installed yet: the launch dialog is not opened
        await until(pilot, lambda: host.argvs()[-1][1:2] == ["versions"])
        assert app.screen is screen
        await pilot.press("i")
        await until(pilot, lambda: isinstance(app.screen, TextInputScreen))
        await pilot.press(*"v0.3.77", "enter")
        status = screen.query_one("#fleet-status")
        await until(
            pilot, lambda: "installed v0.3.77 on gpu-a" in str(status.render()), timeout=120
        )
        assert ["comfy-tui", "install", "v0.3.77", "--json"] in host.argvs()
        await pilot.press("l")  # the host's versions now offer what was installed
        await until(pilot, lambda: isinstance(app.screen, LaunchScreen))
        assert isinstance(app.screen, LaunchScreen)
        assert list(app.screen.versions) == ["v0.3.77"]
        await pilot.press("escape")
    assert (host.data_dir / "versions" / "v0.3.77").is_dir()


async def test_bulk_install_by_tag_installs_on_each_host(
    ssh_lab: SshLab, tmp_path: Path, fake_upstream: Path, wheelhouse: Path
) -> None:
    good = await ssh_lab.add("gpu-a")
    good.install_from(fake_upstream, wheelhouse)
    await ssh_lab.add("gpu-c", "drop")
    ssh_lab.known_hosts()
    client = tmp_path / "client"
    client.mkdir()
    (client / "settings.toml").write_text(ssh_lab.hosts_toml())
    app = make_test_app(client, settings={"hosts": load_settings(client, {}).hosts})
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("6")
        screen = app.screen
        assert isinstance(screen, FleetScreen)
        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, PickScreen))
        await pilot.press("enter")  # "Install a version"
        await until(pilot, lambda: isinstance(app.screen, TextInputScreen))
        await pilot.press(*"lab", "enter")
        await until(
            pilot, lambda: "Release tag" in str(app.screen.query_one("#input-prompt").render())
        )
        await pilot.press(*"v0.3.77", "enter")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        status = screen.query_one("#fleet-status")
        await until(pilot, lambda: "1 of 2 host(s) done" in str(status.render()))
        text = str(status.render())
        assert "gpu-a: ok" in text and "gpu-c: failed" in text
    assert (good.data_dir / "versions" / "v0.3.77").is_dir()

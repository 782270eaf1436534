"""The fleet over real SSH: asyncssh servers on 127.0.0.1 running the real `comfy-tui` per host.

Covers the host states (ok, slow, dropped, refused host key), reconnecting, argv quoting of
remote calls, keys from an ssh-agent, a remote launch/stop and its port forward, a real remote
install (the fake ComfyUI repo and wheelhouse, named in the host's own settings),
`comfy-tui fleet --json`, and the warning about a host that runs another comfy-tui version.
"""

from __future__ import annotations

import asyncio
import json
import shlex
from pathlib import Path

import aiohttp
import pytest

from comfy_tui import __version__
from comfy_tui.services.downloads.data import DownloadRequest
from comfy_tui.services.fleet.service import Fleet
from comfy_tui.services.fleet.transport import RemoteCommandError
from comfy_tui.services.instances.launch import LaunchRequest
from comfy_tui.settings import load_settings
from tests.fakes import models as fm
from tests.fakes.download_server import DownloadServer
from tests.fakes.installed_version import install_fake_version
from tests.fakes.ssh_hosts import SshLab, ssh_agent


@pytest.fixture
def lab(ssh_lab: SshLab) -> SshLab:
    return ssh_lab


def fleet_for(lab: SshLab, tmp_path: Path, timeouts: dict[str, float] | None = None) -> Fleet:
    data = tmp_path / "client"
    data.mkdir(exist_ok=True)
    (data / "settings.toml").write_text(lab.hosts_toml(timeouts))
    return Fleet(load_settings(data, {}).hosts)


async def test_each_host_state_arrives_without_waiting_for_a_slow_one(
    lab: SshLab, tmp_path: Path
) -> None:
    ok = await lab.add("ok")
    slow = await lab.add("slow", "slow")
    await lab.add("drop", "drop")
    lab.known_hosts()
    fleet = fleet_for(lab, tmp_path)
    try:
        seen = []
        async for state in fleet.each_status():
            seen.append(state)
            if len(seen) == 2:  # ok and drop answered while slow still waits
                assert not slow.release.is_set()
                slow.release.set()
        by_name = {s.name: s for s in seen}
        assert seen[-1].name == "slow" and by_name["slow"].state == "ok"
        good = by_name["ok"]
        assert good.state == "ok" and good.reachable
        assert [g.name for g in good.gpus] == ["NVIDIA H200"]
        assert good.gpus[0].total_bytes and good.disk_free_bytes
        assert good.instances == () and good.version
        assert good.gpus_text().startswith("1× H200 ")
        dropped = by_name["drop"]
        assert dropped.state == "down" and "dropped" in (dropped.error or "")
        assert sorted(ok.argvs()) == [
            ["comfy-tui", "--version"],
            ["comfy-tui", "ps", "--json"],
            ["env", "COMFY_TUI_POLL_INTERVAL=0.2", "comfy-tui", "stats", "--json"],
        ]
        assert ok.connections == 1  # three calls, one connection
    finally:
        await fleet.aclose()


async def test_a_slow_host_times_out_as_slow(lab: SshLab, tmp_path: Path) -> None:
    await lab.add("ok")
    await lab.add("slow", "slow")
    lab.known_hosts()
    fleet = fleet_for(lab, tmp_path, {"slow": 0.5})
    try:
        states = {s.name: s for s in await fleet.statuses()}
        assert states["ok"].state == "ok"
        assert states["slow"].state == "slow"
        assert "no answer within 0.5s" in (states["slow"].error or "")
    finally:
        await fleet.aclose()


async def test_a_dropped_connection_is_reopened(lab: SshLab, tmp_path: Path) -> None:
    host = await lab.add("flaky", "drop-once")
    lab.known_hosts()
    fleet = fleet_for(lab, tmp_path)
    try:
        (state,) = await fleet.statuses()
        assert state.state == "ok", state.error
        assert host.connections == 2
    finally:
        await fleet.aclose()


async def test_an_unknown_host_key_is_refused_with_its_fingerprint(
    lab: SshLab, tmp_path: Path
) -> None:
    await lab.add("known")
    stranger = await lab.add("stranger")
    changed = await lab.add("changed")
    lab.known_hosts(["known"], wrong=["changed"])
    fleet = fleet_for(lab, tmp_path)
    try:
        states = {s.name: s for s in await fleet.statuses()}
    finally:
        await fleet.aclose()
    assert states["known"].state == "ok"
    for host, word in ((stranger, "unknown host key"), (changed, "CHANGED host key")):
        state = states[host.name]
        assert state.state == "refused"
        assert word in (state.error or "")
        assert host.host_key.get_fingerprint("sha256") in (state.error or "")
        assert host.commands == []  # nothing was ever run there


async def test_remote_arguments_are_quoted_never_interpreted(lab: SshLab, tmp_path: Path) -> None:
    host = await lab.add("h1")
    lab.known_hosts()
    fleet = fleet_for(lab, tmp_path)
    evil = "x; touch pwned $(touch pwned2) 'q"
    try:
        with pytest.raises(RemoteCommandError) as info:
            await fleet.call("h1", ["logs", evil])
    finally:
        await fleet.aclose()
    assert info.value.exit_code == 1 and "h1:" in str(info.value)
    assert host.argvs() == [["comfy-tui", "logs", evil, "--json"]]
    assert shlex.split(host.commands[0])[2] == evil
    assert not (host.data_dir / "pwned").exists() and not (host.data_dir / "pwned2").exists()


async def test_remote_launch_forward_and_stop(lab: SshLab, tmp_path: Path) -> None:
    host = await lab.add("h1")
    lab.known_hosts()
    install_fake_version(host.paths, "v0.3.77")
    fleet = fleet_for(lab, tmp_path)
    try:
        started = await fleet.launch("h1", LaunchRequest(version="v0.3.77"))
        port = started["port"]
        (state,) = await fleet.statuses()
        assert [(i.version, i.port, i.state) for i in state.instances] == [
            ("v0.3.77", port, "running")
        ]
        lines = await fleet.logs("h1", started["id"], 20)
        assert lines and len(lines) <= 20
        local = await fleet.forward("h1", port)
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{local}/system_stats") as response,
        ):
            assert response.status == 200
            assert "system" in await response.json()
        assert await fleet.forward("h1", port) == local  # one forward per port
        results = await fleet.each(fleet.select(tags=["lab"]), lambda name: fleet.stop(name))
        assert [(r.host, r.ok) for r in results] == [("h1", True)]
        (state,) = await fleet.statuses()
        assert not any(i.live for i in state.instances)
    finally:
        await fleet.aclose()


async def test_remote_model_download_lands_in_the_hosts_library(
    lab: SshLab, tmp_path: Path
) -> None:
    host = await lab.add("h1")
    lab.known_hosts()
    data = fm.safetensors_bytes(fm.sd15_lora())
    fleet = fleet_for(lab, tmp_path)
    try:
        async with DownloadServer() as server:
            url = server.add("/files/my-lora.safetensors", data)
            done = await fleet.download("h1", DownloadRequest(url, folder="loras"))
    finally:
        await fleet.aclose()
    target = host.data_dir / "library" / "models" / "loras" / "my-lora.safetensors"
    assert done["path"] == str(target) and target.read_bytes() == data
    assert host.argvs()[-1] == [
        "comfy-tui", "models", "download", url, "--folder", "loras", "--json"
    ]  # fmt: skip


async def test_a_host_from_ssh_config(lab: SshLab, tmp_path: Path) -> None:
    host = await lab.add("real")
    lab.known_hosts()
    (lab.home / ".ssh" / "config").write_text(
        f"Host gpubox\n  HostName 127.0.0.1\n  Port {host.port}\n  User tester\n"
        f"  IdentityFile {lab.identity_file}\n"
    )
    data = tmp_path / "client"
    data.mkdir()
    (data / "settings.toml").write_text('[[hosts]]\nname = "box"\nssh = "gpubox"\n')
    fleet = Fleet(load_settings(data, {}).hosts)
    try:
        (state,) = await fleet.statuses()
    finally:
        await fleet.aclose()
    assert state.state == "ok", state.error
    assert len(host.commands) == 3


async def test_keys_from_the_ssh_agent(
    lab: SshLab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    host = await lab.add("h1")
    lab.known_hosts()
    data = tmp_path / "client"
    data.mkdir()
    (data / "settings.toml").write_text(lab.hosts_toml(identity_file=False))
    hosts = load_settings(data, {}).hosts
    assert hosts[0].identity_file is None and not list((lab.home / ".ssh").glob("id_*"))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    fleet = Fleet(hosts)
    try:  # no agent, no identity file: the server refuses us
        (state,) = await fleet.statuses()
    finally:
        await fleet.aclose()
    assert state.state == "down" and host.commands == [], state
    assert "Permission denied" in (state.error or "")
    async with ssh_agent(lab.identity_file) as sock:
        monkeypatch.setenv("SSH_AUTH_SOCK", sock)
        fleet = Fleet(hosts)
        try:
            (state,) = await fleet.statuses()
        finally:
            await fleet.aclose()
    assert state.state == "ok", state.error
    assert len(host.commands) == 3


async def test_fleet_json_command(lab: SshLab, tmp_path: Path) -> None:
    await lab.add("ok")
    await lab.add("drop", "drop")
    lab.known_hosts(["ok"])
    data = tmp_path / "client"
    data.mkdir()
    (data / "settings.toml").write_text(lab.hosts_toml())
    child = await asyncio.create_subprocess_exec(
        "comfy-tui",
        "--data-dir",
        str(data),
        "fleet",
        "--json",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await child.communicate()
    assert child.returncode == 0, err.decode()
    doc = json.loads(out)
    states = {h["name"]: h for h in doc["hosts"]}
    assert states["ok"]["reachable"] and states["ok"]["gpus"][0]["name"] == "NVIDIA H200"
    assert states["ok"]["instances"] == [] and states["ok"]["disk_free_bytes"] > 0
    assert states["drop"]["state"] == "refused" and not states["drop"]["reachable"]


async def test_fleet_stop_reports_each_host(lab: SshLab, tmp_path: Path) -> None:
    good = await lab.add("ok")
    await lab.add("drop", "drop")
    lab.known_hosts()
    data = tmp_path / "client"
    data.mkdir()
    (data / "settings.toml").write_text(lab.hosts_toml())
    child = await asyncio.create_subprocess_exec(
        "comfy-tui", "--data-dir", str(data), "fleet", "stop", "--tag", "lab", "--json",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await child.communicate()
    assert child.returncode == 1, err.decode()  # one host failed
    doc = json.loads(out)
    assert doc["action"] == "stop"
    results = {r["host"]: r for r in doc["results"]}
    assert results["ok"]["ok"] and not results["drop"]["ok"]
    assert "dropped" in results["drop"]["detail"]
    assert good.argvs() == [["comfy-tui", "stop", "--all", "--json"]]


async def test_fleet_command_without_hosts_says_how(tmp_path: Path) -> None:
    child = await asyncio.create_subprocess_exec(
        "comfy-tui",
        "--data-dir",
        str(tmp_path),
        "fleet",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await child.communicate()
    assert child.returncode == 2
    assert "no hosts configured" in err.decode() and "[[hosts]]" in err.decode()


async def fleet_cli(data: Path, *args: str) -> tuple[int, str, str]:
    """`comfy-tui --data-dir DATA ARGS` (the client side), as a script runs it."""
    child = await asyncio.create_subprocess_exec(
        "comfy-tui", "--data-dir", str(data), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await child.communicate()
    assert child.returncode is not None
    return child.returncode, out.decode(), err.decode()


async def test_fleet_install_installs_on_the_host(
    lab: SshLab, tmp_path: Path, fake_upstream: Path, wheelhouse: Path
) -> None:
    host = await lab.add("h1")
    other = await lab.add("h2")
    host.install_from(fake_upstream, wheelhouse)
    lab.known_hosts()
    data = tmp_path / "client"
    data.mkdir()
    (data / "settings.toml").write_text(lab.hosts_toml())
    code, out, err = await fleet_cli(data, "fleet", "install", "v0.4.0", "--host", "h1", "--json")
    assert code == 0, err
    (result,) = json.loads(out)["results"]
    assert result["host"] == "h1" and result["ok"], result
    assert host.argvs() == [["comfy-tui", "install", "v0.4.0", "--json"]]
    assert other.commands == []  # --host chose h1 alone
    assert (host.data_dir / "versions" / "v0.4.0").is_dir()
    fleet = fleet_for(lab, tmp_path)
    try:
        versions = await fleet.versions("h1")
    finally:
        await fleet.aclose()
    assert [v.tag for v in versions] == ["v0.4.0"]

    code, out, _ = await fleet_cli(data, "fleet", "install", "v9.9.9", "--host", "h1")
    assert code == 1  # the host's own error, on the host's line
    assert out.startswith("h1: FAILED: ") and "no tag" in out


async def test_fleet_warns_about_a_host_running_another_version(
    lab: SshLab, tmp_path: Path
) -> None:
    await lab.add("old", version="0.0.1")
    await lab.add("same")
    lab.known_hosts()
    data = tmp_path / "client"
    data.mkdir()
    (data / "settings.toml").write_text(lab.hosts_toml())
    code, out, err = await fleet_cli(data, "fleet")
    assert code == 0, err
    assert err.splitlines() == [f"comfy-tui: old runs comfy-tui 0.0.1 (here: {__version__})"]
    assert "old " in out and "same " in out
    code, out, err = await fleet_cli(data, "fleet", "--json")
    assert code == 0 and err == ""  # --json: the versions are in the document
    versions = {h["name"]: h["comfy_tui_version"] for h in json.loads(out)["hosts"]}
    assert versions == {"old": "0.0.1", "same": __version__}

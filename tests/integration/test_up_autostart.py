"""Back after a reboot: `up` after every instance was SIGKILLed, and `autostart` writing a
systemd user unit (with a fake `systemctl` on PATH that records its argv)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import psutil
import pytest

from comfy_tui.store.instance_records import list_instances, require_instance
from tests.fakes.instance_lab import Lab
from tests.integration.test_instances_detached import answers, cli


@pytest.fixture
async def lab(tmp_path: Path) -> AsyncIterator[Lab]:
    lab = Lab(tmp_path)
    yield lab
    await lab.cleanup()


def kill_all(lab: Lab) -> None:
    """What a reboot does: every process of every instance dies at once."""
    pids = []
    for record in list_instances(lab.paths):
        if record.live and record.pgid:
            os.killpg(record.pgid, signal.SIGKILL)
            pids += [p for p in (record.pid, record.supervisor_pid) if p]
    psutil.wait_procs([psutil.Process(p) for p in pids if psutil.pid_exists(p)], timeout=10)


def launch(lab: Lab, *args: str) -> dict[str, object]:
    done = cli(lab, "launch", "--json", *args)
    assert done.returncode == 0, done.stderr
    doc: dict[str, object] = json.loads(done.stdout)
    return doc


async def test_up_brings_back_what_was_killed_and_not_what_was_stopped(lab: Lab) -> None:
    first = launch(lab, "--env", "MY_SETTING=on", "--", "--lowvram")
    second = launch(lab)
    third = launch(lab)
    assert cli(lab, "stop", str(third["id"])).returncode == 0  # the user stopped it: not wanted
    kill_all(lab)

    up = cli(lab, "up", "--json")
    assert up.returncode == 0, up.stderr
    results = {r["id"]: r for r in json.loads(up.stdout)}
    assert set(results) == {first["id"], second["id"]}
    assert all(r["ok"] for r in results.values())
    for doc in (first, second):
        record = require_instance(lab.paths, str(doc["id"]))
        assert record.state == "running" and record.port == doc["port"]
        assert answers(record.port)
    back = require_instance(lab.paths, str(first["id"]))
    assert "--lowvram" in back.argv and back.user_env == {"MY_SETTING": "on"}
    assert require_instance(lab.paths, str(third["id"])).state == "exited"

    again = cli(lab, "up")
    assert again.returncode == 0 and "nothing to start" in again.stdout


async def test_up_lists_what_failed_and_exits_1(lab: Lab) -> None:
    doc = launch(lab)
    kill_all(lab)
    with socket.socket() as squatter:  # another program took the port meanwhile
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", int(str(doc["port"]))))
        squatter.listen()
        up = cli(lab, "up")
    assert up.returncode == 1
    assert f"{doc['id']}" in up.stdout and "FAILED: port" in up.stdout
    assert f"did not come up: {doc['id']}" in up.stderr


def fake_systemctl(bin_dir: Path, record: Path) -> None:
    bin_dir.mkdir(parents=True, exist_ok=True)
    script = bin_dir / "systemctl"
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"open({str(record)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
        "print('enabled' if 'is-enabled' in sys.argv else '')\n"
    )
    script.chmod(0o755)


async def test_autostart_writes_a_user_unit_and_enables_it(lab: Lab, tmp_path: Path) -> None:
    calls = tmp_path / "systemctl.calls"
    fake_systemctl(tmp_path / "bin", calls)
    env = {"PATH": str(tmp_path / "bin"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    done = cli(lab, "autostart", "enable", env=env)
    assert done.returncode == 0, done.stderr
    unit = tmp_path / "config" / "systemd" / "user" / "comfy-tui.service"
    text = unit.read_text()
    assert "Type=oneshot" in text and "RemainAfterExit=yes" in text
    start = next(x for x in text.splitlines() if x.startswith("ExecStart="))
    assert Path(start.removeprefix("ExecStart=").split()[0]).is_absolute()
    assert start.endswith(" up") and f"--data-dir {lab.root}" in start
    assert "stop --all --keep-wanted" in text
    assert calls.read_text().splitlines() == [
        "--user daemon-reload",
        "--user enable comfy-tui.service",
    ]
    assert "loginctl enable-linger" in done.stdout

    status = cli(lab, "autostart", "status", "--json", env=env)
    assert json.loads(status.stdout)["enabled"] == "enabled"

    if shutil.which("systemd-analyze"):
        verify = subprocess.run(
            ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False
        )
        assert verify.returncode == 0, verify.stderr

    off = cli(lab, "autostart", "disable", env=env)
    assert off.returncode == 0 and not unit.exists()
    assert "--user disable comfy-tui.service" in calls.read_text()


async def test_without_systemd_autostart_prints_the_crontab_line(lab: Lab, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    env = {"PATH": str(tmp_path / "empty"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    done = cli(lab, "autostart", "enable", env=env)
    assert done.returncode == 0, done.stderr
    assert "@reboot " in done.stdout and done.stdout.rstrip().endswith("2>&1")
    assert not (tmp_path / "config" / "systemd").exists()


FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "nvml_h200.json"


def three_gpus(path: Path, used_gib: tuple[int, int, int]) -> Path:
    """The H200 recording with three devices, each with its own used memory."""
    data = json.loads(FIXTURE.read_text())
    for sample in data["samples"]:
        device = sample["devices"][0]
        devices = []
        for used in used_gib:
            copy = json.loads(json.dumps(device))
            total = copy["memory"]["value"]["total"]
            copy["memory"]["value"] = {
                "total": total,
                "used": used << 30,
                "free": total - (used << 30),
            }
            devices.append(copy)
        sample["devices"] = devices
    data["system"]["device_count"]["value"] = 3
    path.write_text(json.dumps(data))
    return path


async def test_launch_takes_the_gpu_with_most_free_memory_and_up_keeps_it(
    lab: Lab, tmp_path: Path
) -> None:
    replay = three_gpus(tmp_path / "gpus.json", (100, 2, 2))
    env = {"COMFY_TUI_GPU_REPLAY": str(replay)}
    first = cli(lab, "launch", "--gpu", "auto", env=env)
    assert first.returncode == 0, first.stderr
    assert "gpu:     GPU 1: the most free memory" in first.stdout
    assert "a tie, so the one with the fewest instances (0)" in first.stdout
    second = json.loads(cli(lab, "launch", "--json", env=env).stdout)
    assert second["gpu"] == 2  # as free as GPU 1, which already runs one of ours
    assert "--cuda-device" in second["argv"] and "2" in second["argv"]

    kill_all(lab)
    up = cli(lab, "up", "--json", env=env)
    assert up.returncode == 0, up.stderr
    assert sorted(r["gpu"] for r in json.loads(up.stdout)) == [1, 2]
    assert cli(lab, "launch", "--gpu", "x", env=env).returncode == 2

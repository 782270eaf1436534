"""Instances outlive whoever launched them, and we never signal a process that is not ours.

The launchers here are real separate processes: `comfy-tui launch --no-wait` that exits, and a
TUI stand-in that is killed with SIGKILL or hung up on (SIGHUP to its whole group).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import psutil
import pytest

from comfy_tui.services.instances.identity import signal_instance
from comfy_tui.store.instance_records import InstanceRecord, require_instance, save_instance
from tests.cli_run import at_a_terminal, run_cli
from tests.fakes.instance_lab import Lab
from tests.waiting import LAST_RESORT_S, wait_until


@pytest.fixture
async def lab(tmp_path: Path) -> AsyncIterator[Lab]:
    lab = Lab(tmp_path)
    yield lab
    await lab.cleanup()


def cli(
    lab: Lab, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("COMFY_TUI_")}, **(env or {})}
    env["COMFY_TUI_BASE_PORT"] = str(lab.settings.base_port)
    return run_cli(lab.root, *args, env=env)


def answers(port: int) -> bool:
    """A stopped server refuses at once; the timeout is for a hung one (a loaded box is slow)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/system_stats", timeout=30) as r:
            return r.status == 200
    except OSError:
        return False


async def test_cli_launch_no_wait_exits_and_the_instance_lives_on(lab: Lab) -> None:
    started = cli(lab, "launch", "--no-wait", "--json")  # returns: no pipe of ours is held
    assert started.returncode == 0, started.stderr
    doc = json.loads(started.stdout)
    instance_id, port = doc["id"], doc["port"]
    wait_until(lambda: answers(port))

    ps = cli(lab, "ps", "--json")
    assert ps.returncode == 0, ps.stderr
    [row] = json.loads(ps.stdout)
    assert (row["id"], row["state"]) == (instance_id, "running")

    text = cli(lab, "ps")
    assert instance_id in text.stdout and "running" in text.stdout

    logs = cli(lab, "logs", instance_id, "-n", "3")
    assert logs.returncode == 0 and "To see the GUI go to" in logs.stdout

    stopped = cli(lab, "stop", instance_id)
    assert stopped.returncode == 0, stopped.stderr
    assert f"{instance_id} (v0.3.77, port {port}): stopped" in stopped.stdout
    assert not answers(port)
    assert "exited" in cli(lab, "ps").stdout


async def test_cli_launch_waits_until_ready_and_stop_all(lab: Lab) -> None:
    result = cli(lab, "launch", "v0.3.77", "--auto-restart", "--", "--lowvram")
    assert result.returncode == 0, result.stderr
    assert "ready: ComfyUI v0.3.77 on port" in result.stdout
    assert "ssh -L" in result.stdout and "To see the GUI go to" in result.stderr
    record = require_instance(lab.paths, result.stdout.split()[0])
    assert record.auto_restart and "--lowvram" in record.argv and answers(record.port)
    assert cli(lab, "stop", "--all").returncode == 0
    assert not answers(record.port)
    assert cli(lab, "stop", "--all").stdout.strip() == "no instances running"


async def test_logs_follow_ends_when_the_instance_does(lab: Lab) -> None:
    crash = {"FAKE_COMFYUI_CRASH_AFTER": "1.0"}  # reaches ComfyUI through the launcher's env
    started = cli(lab, "launch", "--json", env=crash)
    assert started.returncode == 0, started.stderr
    instance_id = json.loads(started.stdout)["id"]
    followed = cli(lab, "logs", instance_id, "-f", "-n", "2")
    assert followed.returncode == 0
    assert "crashed on purpose" in followed.stdout
    assert f"{instance_id} crashed: exited with code 1" in followed.stderr


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["launch", "v9.9.9"], 1, "version v9.9.9 is not installed"),
        (["launch", "--", "--bogus"], 2, "has no flag `--bogus`"),
        (["launch", "--gpu", "99"], 2, "GPU 99 does not exist: this box has"),
        (["launch", "--listen", "not a host"], 2, "invalid listen address"),
        (["launch", "--listen", "10.0.0.300"], 2, "not a valid IP address"),
        (["launch", "--listen", "192.0.2.1"], 2, "cannot listen on 192.0.2.1"),
        (["launch", "--", "lowvram"], 2, "has no flag `lowvram`; did you mean `--lowvram`?"),
        (["stop", "nothing"], 1, "no instance or running version matches 'nothing'"),
        (["logs", "nothing"], 1, "no instance or running version matches 'nothing'"),
        (["logs", "x", "-n", "-1"], 2, "invalid line count"),
    ],
)
def test_cli_errors_are_one_line(tmp_path: Path, args: list[str], code: int, needle: str) -> None:
    lab = Lab(tmp_path)
    result = cli(lab, *args)
    assert result.returncode == code, result.stderr
    assert needle in result.stderr and len(result.stderr.strip().splitlines()) == 1


TUI_STAND_IN = """
import asyncio, sys
from pathlib import Path
from comfy_tui.services.container import Services
from comfy_tui.services.instances.launch import LaunchRequest
from comfy_tui.settings import Settings

async def main():
    services = Services(Settings(data_dir=Path(sys.argv[1]), base_port=int(sys.argv[2])))
    svc = services.instances
    async for event in svc.launch(LaunchRequest()):
        if type(event).__name__ == "Finished":
            print(event.detail.split()[0], flush=True)
    await asyncio.Event().wait()  # a TUI that keeps running until killed

asyncio.run(main())
"""


@pytest.fixture
def tui(lab: Lab) -> Iterator[subprocess.Popen[str]]:
    with subprocess.Popen(  # leaving the block closes its stdout and waits for it
        at_a_terminal(  # a hang-up ends it, as it ends a TUI at a terminal
            [sys.executable, "-c", TUI_STAND_IN, str(lab.root), str(lab.settings.base_port)]
        ),
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own group, like a terminal's foreground job
    ) as proc:
        yield proc
        if proc.poll() is None:
            proc.kill()


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGHUP])
async def test_instances_survive_their_tui_and_are_reattached(
    lab: Lab, tui: subprocess.Popen[str], how: signal.Signals
) -> None:
    assert tui.stdout is not None
    instance_id = tui.stdout.readline().strip()
    record = require_instance(lab.paths, instance_id)
    os.killpg(tui.pid, how)  # kill -9 the TUI, or its terminal hangs up
    assert tui.wait(timeout=LAST_RESORT_S) != 0
    assert answers(record.port)

    svc = lab.service()
    [view] = await svc.refresh()
    assert (view.id, view.state) == (instance_id, "running")
    assert (await svc.stop(instance_id)).state == "exited"
    assert not answers(record.port)


async def test_a_pid_with_another_create_time_is_never_signalled(lab: Lab) -> None:
    stranger = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        real = psutil.Process(stranger.pid).create_time()
        fake = InstanceRecord(
            id="cstale",
            version="v0.3.77",
            port=lab.settings.base_port,
            listen="127.0.0.1",
            gpu=None,
            argv=("python", "main.py"),
            cwd=str(lab.root),
            log_path=str(lab.paths.instance_log("cstale")),
            started_at=time.time(),
            state="running",
            pid=stranger.pid,  # the pid was reused by a stranger...
            create_time=real - 1000.0,  # ...so the create time we recorded differs
            pgid=stranger.pid,
            supervisor_pid=stranger.pid,
            supervisor_create_time=real - 1000.0,
        )
        save_instance(lab.paths, fake)
        assert not signal_instance(fake, signal.SIGKILL)
        svc = lab.service()
        final = await svc.stop("cstale")
        assert final.state == "exited" and final.reason == "not running"
        [view] = await svc.refresh()
        assert view.state == "exited"
        assert stranger.poll() is None, "the stranger was never signalled"
    finally:
        stranger.kill()
        stranger.wait()

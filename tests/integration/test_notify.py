"""The notifier end to end: a finished job, a failed job and a crashed instance reach the
listeners (the TUI's way in), the terminal, a loopback webhook and a command."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from comfy_tui.events import Finished
from comfy_tui.services.instances.health import base_url
from comfy_tui.services.instances.launch import LaunchRequest
from comfy_tui.services.jobs.api import queue_prompt
from comfy_tui.services.jobs.service import JobsService
from comfy_tui.services.notify.notice import Notice
from comfy_tui.services.notify.notifier import Notifier
from comfy_tui.store.instance_records import InstanceRecord
from tests.fakes.instance_lab import Lab
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.fakes.workflows import failing, txt2img
from tests.waiting import LAST_RESORT_S, until

SECRET = "s3cr3t-token"


@pytest.fixture
async def lab(tmp_path: Path) -> AsyncIterator[Lab]:
    lab = Lab(tmp_path)
    yield lab
    await lab.cleanup()


async def launch(lab: Lab) -> InstanceRecord:
    svc = lab.service()
    async for event in svc.launch(LaunchRequest()):
        if isinstance(event, Finished):
            break
    [view] = [v for v in await svc.refresh() if v.record.live]
    return view.record


async def next_notice(notices: asyncio.Queue[Notice], kind: str) -> Notice:
    async with asyncio.timeout(LAST_RESORT_S):
        while True:
            notice = await notices.get()
            if notice.kind == kind:
                return notice


def connected(notifier: Notifier, instance_id: str) -> bool:
    state = notifier.jobs.state(instance_id)
    return state is not None and state.connected


async def test_job_and_crash_notices_reach_every_destination(
    lab: Lab, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    receiver = WebhookReceiver(fail_first=1)  # the first POST fails: it is retried
    hook = await receiver.start()
    written = tmp_path / "notices.jsonl"
    script = f"import sys; open({str(written)!r}, 'a').write(sys.stdin.read() + '\\n')"
    settings = lab.settings._replace(
        poll_interval=0.1,
        notify_webhook=f"{hook}?token={SECRET}",
        notify_command=(sys.executable, "-c", script),
    )
    record = await launch(lab)
    terminal: list[str] = []
    notifier = Notifier(settings, lab.paths, JobsService(), terminal=terminal.append)
    notices: asyncio.Queue[Notice] = asyncio.Queue()
    notifier.subscribe(notices.put_nowait)
    runner = asyncio.create_task(notifier.run())
    try:
        await until(None, lambda: connected(notifier, record.id), "the watcher connected")
        url = base_url(record)
        await queue_prompt(url, txt2img(steps=2, prefix="dog"))
        done = await next_notice(notices, "job_finished")
        assert "dog_00001_.png" in done.body and done.instance == record.id

        await queue_prompt(url, failing())
        failed = await next_notice(notices, "job_failed")
        assert failed.body == "FakeError (#5): RuntimeError: CUDA out of memory"

        assert record.pid is not None
        os.kill(record.pid, signal.SIGKILL)  # ComfyUI dies under its supervisor
        crashed = await next_notice(notices, "instance_crashed")
        assert crashed.instance == record.id

        posted = await receiver.wait_for("instance_crashed")
        assert posted["instance"] == record.id
        assert (await receiver.wait_for("job_failed"))["error_node"] == "FakeError (#5)"
        assert receiver.attempts > len(receiver.received)  # one was retried
        assert all(q == f"token={SECRET}" for q in receiver.queries)
        await notifier.drain()
        lines = [json.loads(x) for x in written.read_text().splitlines() if x]
        kinds = sorted(x["kind"] for x in lines)  # the commands run side by side
        assert kinds == ["instance_crashed", "job_failed", "job_finished"]
        assert any("\a" in t and "\x1b]9;Job finished" in t for t in terminal)
        assert any("\x1b]777;notify;Instance" in t for t in terminal)
        assert SECRET not in caplog.text
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner
        await receiver.stop()


async def test_terminal_settings_turn_bell_and_desktop_off(lab: Lab) -> None:
    settings = lab.settings._replace(notify_bell=False, notify_desktop=False)
    terminal: list[str] = []
    notifier = Notifier(settings, lab.paths, JobsService(), terminal=terminal.append)
    notifier.publish(Notice("install_finished", "Install finished", "v1", 0.0))
    assert terminal == [] and notifier.recent[0].kind == "install_finished"
    settings = lab.settings._replace(notify_desktop=False)
    notifier = Notifier(settings, lab.paths, JobsService(), terminal=terminal.append)
    notifier.publish(Notice("install_finished", "Install finished", "v1", 0.0))
    assert terminal == ["\a"]


async def test_watch_prints_notices_headless(lab: Lab, tmp_path: Path) -> None:
    record = await launch(lab)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMFY_TUI_")}
    env["COMFY_TUI_POLL_INTERVAL"] = "0.1"
    watcher = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "comfy_tui", "--data-dir", str(lab.root)),
        *("watch", "--count", "1", "--json"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        assert watcher.stderr is not None and watcher.stdout is not None
        assert b"watching" in await watcher.stderr.readline()
        async with asyncio.timeout(LAST_RESORT_S):
            while True:  # queue once the watcher's websocket is up: then nothing is missed
                await queue_prompt(base_url(record), txt2img(steps=1))
                try:
                    async with asyncio.timeout(1.0):
                        line = await watcher.stdout.readline()
                        break
                except TimeoutError:
                    continue
        doc = json.loads(line)
        assert doc["kind"] == "job_finished" and doc["instance"] == record.id
        assert await watcher.wait() == 0
    finally:
        if watcher.returncode is None:
            watcher.kill()
            await watcher.wait()


def test_notify_settings_are_checked(tmp_path: Path) -> None:
    from comfy_tui.errors import SettingsError
    from comfy_tui.settings import load_settings

    (tmp_path / "settings.toml").write_text('notify_command = ["notify-send", "-u", "low"]\n')
    settings = load_settings(tmp_path, {"COMFY_TUI_NOTIFY_WEBHOOK": "https://h.example/x?k=1"})
    assert settings.notify_command == ("notify-send", "-u", "low")
    assert settings.to_public_dict()["notify_webhook"] == "***"
    for bad in ('notify_command = "notify-send hi"', 'notify_webhook = "file:///tmp/x"'):
        (tmp_path / "settings.toml").write_text(bad + "\n")
        with pytest.raises(SettingsError):
            load_settings(tmp_path, {})

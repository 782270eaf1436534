"""Instances with real processes: launch → ready → stop, several at once, foreign servers on our
port, crashes, ComfyUI-Manager restarts and the GPU choice. Every launch spawns the fake
ComfyUI under the real supervisor, on real loopback ports."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import stat
import urllib.request
from collections.abc import AsyncIterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

import pytest

from comfy_tui.errors import ProcessError, ValidationError
from comfy_tui.events import Event, Finished, LogLine
from comfy_tui.services.instances import ready
from comfy_tui.services.instances.identity import comfyui_alive, supervisor_alive
from comfy_tui.services.instances.launch import LaunchRequest
from comfy_tui.services.instances.service import InstancesService
from comfy_tui.store.instance_records import InstanceRecord, load_instance, require_instance
from comfy_tui.store.version_records import save_record
from tests.fakes.instance_lab import Lab
from tests.waiting import until


@pytest.fixture
async def lab(tmp_path: Path) -> AsyncIterator[Lab]:
    lab = Lab(tmp_path)
    yield lab
    await lab.cleanup()


def stats(port: int) -> dict[str, Any]:
    # A stopped server refuses at once; the timeout is for a hung one (a loaded box is slow).
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/system_stats", timeout=30) as resp:
        doc: dict[str, Any] = json.load(resp)
    return doc


def answers(port: int) -> bool:
    try:
        return bool(stats(port))
    except OSError:
        return False


async def launch(svc: InstancesService, **kw: Any) -> tuple[InstanceRecord, list[Event]]:
    events = [e async for e in svc.launch(LaunchRequest(**kw))]
    assert isinstance(events[-1], Finished), events
    instance_id = events[0].source if isinstance(events[0], LogLine) else ""
    return require_instance(svc.paths, instance_id), events


async def test_launch_ready_stop(lab: Lab) -> None:
    svc = lab.service()
    record, events = await launch(svc)
    assert record.state == "running"
    assert any(isinstance(e, LogLine) and "To see the GUI go to" in e.text for e in events)
    assert record.port == lab.settings.base_port and record.cpu_only
    argv = stats(record.port)["system"]["argv"]
    assert "--cpu" in argv and "--disable-auto-launch" in argv
    assert f"sqlite:///{lab.paths.instance_dir(record.id)}/comfyui.db" in argv
    assert record.env["__COMFY_CLI_SESSION__"] == str(lab.paths.instance_dir(record.id) / "session")
    assert stat.S_IMODE(os.stat(record.log_path).st_mode) == 0o600
    assert record.pgid == record.supervisor_pid and os.getpgid(record.pid or 0) == record.pgid
    assert os.getsid(record.pid or 0) != os.getsid(0), "ComfyUI runs in its own session"

    [view] = await svc.refresh()
    assert view.state == "running" and view.queue == 0 and view.rss_bytes
    assert view.url == f"http://127.0.0.1:{record.port}"
    assert view.tunnel == f"ssh -L {record.port}:127.0.0.1:{record.port} me@gpubox"
    assert svc.quiet_views(svc.reconcile()) is None  # something runs: `ps` probes it

    final = await svc.stop(record.id)
    assert final.state == "exited" and final.exit_code == 0 and final.reason == "stopped"
    assert not comfyui_alive(record) and not supervisor_alive(record)
    assert "Stopped server" in Path(record.log_path).read_text()
    assert await svc.running_versions() == {}
    quiet = svc.quiet_views(svc.reconcile())  # nothing runs: the views without an event loop
    assert quiet is not None
    assert [v.to_json() for v in quiet] == [v.to_json() for v in await svc.refresh()]


async def test_what_it_printed_before_it_answered_comes_before_ready(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its last startup line, printed after the launcher last read the log but before the
    answer that made it ready (a loaded box widens that window), is part of the launch."""
    real_probe = ready.probe

    async def answer_late(session: Any, record: InstanceRecord, **kw: Any) -> Any:
        health = await real_probe(session, record, **kw)
        if health.healthy:
            with open(record.log_path, "a") as log:
                log.write("printed just before the answer\n")
        return health

    monkeypatch.setattr(ready, "probe", answer_late)
    _record, events = await launch(lab.service())
    lines = [e.text for e in events if isinstance(e, LogLine)]
    assert "printed just before the answer" in lines


async def test_two_instances_get_two_ports_and_own_databases(lab: Lab) -> None:
    svc = lab.service()
    (a, _), (b, _) = await asyncio.gather(launch(svc), launch(svc))
    # the first free ports from base_port up (another process may hold one of them meanwhile)
    assert a.port != b.port and min(a.port, b.port) >= lab.settings.base_port
    assert stats(a.port)["system"]["argv"] != stats(b.port)["system"]["argv"]
    assert await svc.running_versions() == {"v0.3.77": 2}
    assert await svc.is_running("v0.3.77") and not await svc.is_running("v9")
    stopped = await asyncio.gather(svc.stop(a.id), svc.stop(b.id))
    assert [r.state for r in stopped] == ["exited", "exited"]


class Foreign(BaseHTTPRequestHandler):
    """Somebody else's server: answers /system_stats with its own argv."""

    def do_GET(self) -> None:
        body = json.dumps({"system": {"argv": ["other.py", "--port", "1"]}}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


def serve_foreign(port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", port), Foreign)
    Thread(target=server.serve_forever, daemon=True).start()
    return server


async def test_a_port_held_by_a_foreign_server(lab: Lab) -> None:
    svc = lab.service()
    server = serve_foreign(lab.settings.base_port)
    try:
        with pytest.raises(ValidationError, match="already in use by another program"):
            await svc.start(LaunchRequest(port=lab.settings.base_port))
        record, _ = await launch(svc)  # the automatic choice skips it
        # the next free port: base + 1 unless something else on this box holds that one too
        assert record.port > lab.settings.base_port
    finally:
        server.shutdown()
        server.server_close()


async def test_a_foreign_server_that_grabs_the_port_during_startup_is_never_ours(
    lab: Lab,
) -> None:
    svc = lab.service()
    record = await svc.start(LaunchRequest(env={"FAKE_COMFYUI_STARTUP_DELAY": "1.5"}))
    server = serve_foreign(record.port)  # while ours is still importing
    try:
        with pytest.raises(ProcessError) as info:
            async for event in svc.wait_ready(record.id):
                assert not isinstance(event, Finished)
        assert f"port {record.port} is already in use" in str(info.value)
        assert require_instance(lab.paths, record.id).state == "crashed"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({"FAKE_COMFYUI_FAIL_WITH": "ASSETS_STARTUP_FAILED: in_use"}, "STARTUP_FAILED: in_use"),
        ({"FAKE_COMFYUI_FAIL_WITH": "ModuleNotFoundError: no requests"}, "no requests"),
    ],
)
async def test_a_failed_start_says_why_at_once(lab: Lab, env: dict[str, str], needle: str) -> None:
    svc = lab.service()
    with pytest.raises(ProcessError, match=needle):
        async for _ in svc.launch(LaunchRequest(env=env)):
            pass
    [record] = [v.record for v in await svc.refresh()]
    assert record.state == "crashed" and record.exit_code == 1 and needle in record.reason


async def test_an_unknown_flag_is_refused_or_reported(lab: Lab) -> None:
    svc = lab.service()
    with pytest.raises(ValidationError, match="has no flag `--bogus`"):
        await svc.start(LaunchRequest(extra_args=("--bogus",)))
    # A version whose flags are unknown gets it passed, and ComfyUI's own verdict is reported.
    save_record(lab.paths, lab.version.__class__(**{**lab.version.to_json(), "flags": ()}))
    with pytest.raises(ProcessError, match="unrecognized arguments: --bogus"):
        async for _ in svc.launch(LaunchRequest(extra_args=("--bogus",))):
            pass


async def test_crash_is_detected(lab: Lab) -> None:
    svc = lab.service()
    record, _ = await launch(svc, env={"FAKE_COMFYUI_CRASH_AFTER": "0.3"})
    await until(None, lambda: not require_instance(lab.paths, record.id).live)
    [view] = await svc.refresh()
    assert view.state == "crashed" and view.record.exit_code == 1
    assert "crashed on purpose" in view.record.reason


async def test_auto_restart_stops_after_three_in_five_minutes(lab: Lab) -> None:
    svc = lab.service()
    record, _ = await launch(svc, env={"FAKE_COMFYUI_CRASH_AFTER": "0.2"}, auto_restart=True)
    first_pid = record.pid
    await until(None, lambda: not require_instance(lab.paths, record.id).live)
    final = require_instance(lab.paths, record.id)
    assert final.state == "crashed" and final.restarts == 3 and final.pid != first_pid
    assert "auto-restart gave up after 3 restarts in 5 minutes" in final.reason
    assert Path(record.log_path).read_text().count("restarting (") == 3


async def test_manager_restart_relaunches_without_losing_track(lab: Lab) -> None:
    svc = lab.service()
    record, _ = await launch(svc)
    urllib.request.urlopen(f"http://127.0.0.1:{record.port}/manager/reboot", timeout=30).close()

    def relaunched() -> bool:
        now = require_instance(lab.paths, record.id)
        return now.reboots == 1 and now.pid != record.pid and comfyui_alive(now)

    await until(None, relaunched)
    await until(None, lambda: answers(record.port))
    [view] = await svc.refresh()
    assert view.state == "running" and view.record.restarts == 0
    assert not comfyui_alive(record), "the old process is gone, not orphaned"
    assert not (lab.paths.instance_dir(record.id) / "session.reboot").exists()


async def test_sigint_is_ignored_so_stop_escalates_to_sigkill(tmp_path: Path) -> None:
    lab = Lab(tmp_path, stop_grace=0.5)
    try:
        svc = lab.service()
        record, _ = await launch(svc, env={"FAKE_COMFYUI_IGNORE_SIGINT": "1"})
        final = await svc.stop(record.id)
        assert final.state == "exited" and final.exit_code == -signal.SIGKILL
        assert "did not stop within 0.5s of SIGINT; killed" in final.reason
        assert not comfyui_alive(record) and not supervisor_alive(record)
    finally:
        await lab.cleanup()


async def test_unhealthy_after_failed_probes_then_running_again(lab: Lab) -> None:
    svc = lab.service(probe_timeout=0.2)
    record, _ = await launch(svc)
    assert record.pid
    os.kill(record.pid, signal.SIGSTOP)
    try:
        states = [(await svc.refresh())[0].state for _ in range(3)]
        assert states == ["running", "running", "unhealthy"]
    finally:
        os.kill(record.pid, signal.SIGCONT)
    await until(None, lambda: answers(record.port))
    assert (await svc.refresh())[0].state == "running"


async def test_gpus_are_spread_and_passed_the_way_each_version_accepts(lab: Lab) -> None:
    svc = lab.service(gpu_count=2)
    (a, _), (b, _) = await asyncio.gather(launch(svc), launch(svc))
    assert sorted([a.gpu, b.gpu]) == [0, 1]
    argv = stats(a.port)["system"]["argv"]
    assert argv[argv.index("--cuda-device") + 1] == str(a.gpu) and "--cpu" not in argv
    with pytest.raises(ValidationError, match="this box has 2 GPUs"):
        await svc.start(LaunchRequest(gpu=5))
    # A version without --cuda-device gets CUDA_VISIBLE_DEVICES instead.
    flags = tuple(f for f in lab.version.flags if f != "--cuda-device")
    old = lab.version.__class__(**{**lab.version.to_json(), "tag": "v0.2.0", "flags": flags})
    save_record(lab.paths, old)
    c, _ = await launch(svc, version="v0.2.0", gpu=1)
    assert c.env["CUDA_VISIBLE_DEVICES"] == "1" and "--cuda-device" not in c.argv


async def test_reattach_after_the_service_is_recreated(lab: Lab) -> None:
    record, _ = await launch(lab.service())
    fresh = lab.service()  # as a new TUI would
    [view] = await fresh.refresh()
    assert view.id == record.id and view.state == "running"
    assert (await fresh.stop(record.id)).state == "exited"


async def test_restart_keeps_id_port_and_settings(lab: Lab) -> None:
    svc = lab.service()
    record, _ = await launch(svc, extra_args=("--lowvram",))
    events = [e async for e in svc.restart(record.id)]
    assert isinstance(events[-1], Finished)
    again = require_instance(lab.paths, record.id)
    assert again.port == record.port and again.pid != record.pid and again.restarts == 1
    assert again.extra_args == ("--lowvram",) and "--lowvram" in stats(again.port)["system"]["argv"]
    assert load_instance(lab.paths, record.id) is not None


async def test_resolve_targets(lab: Lab) -> None:
    svc = lab.service()
    record, _ = await launch(svc)
    assert [r.id for r in await svc.resolve(record.id[:4])] == [record.id]
    assert [r.id for r in await svc.resolve("v0.3.77")] == [record.id]
    with pytest.raises(Exception, match="no instance or running version matches"):
        await svc.resolve("nothing")


async def test_restart_of_a_stopped_instance_moves_off_a_port_taken_meanwhile(lab: Lab) -> None:
    svc = lab.service()
    record, _ = await launch(svc)
    await svc.stop(record.id)
    server = serve_foreign(record.port)
    try:
        events = [e async for e in svc.restart(record.id)]
        assert isinstance(events[-1], Finished)
        again = require_instance(lab.paths, record.id)
        assert again.state == "running" and again.port != record.port
    finally:
        server.shutdown()
        server.server_close()

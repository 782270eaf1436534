"""Notices found by comparing two looks: crashes, automatic restarts, downloads, installs."""

from __future__ import annotations

from comfy_tui.services.jobs.state import JobEvent
from comfy_tui.services.notify.deliver import command_env, redacted, terminal_text
from comfy_tui.services.notify.notice import (
    Notice,
    download_notices,
    install_notices,
    instance_notices,
    job_notice,
)
from comfy_tui.store.instance_records import InstanceRecord


def rec(**kw: object) -> InstanceRecord:
    base = InstanceRecord("c1", "v0.3.77", 8188, "127.0.0.1", 0, (), "/", "/l", 0.0)
    return base.evolve(**kw)


def test_crash_and_automatic_restart() -> None:
    before = {"c1": rec(state="running"), "c2": rec(id="c2", state="running")}
    after = [
        rec(state="crashed", reason="exit code 1: CUDA error", exit_code=1),
        rec(id="c2", state="starting", restart_times=(5.0,), reason="restarted after: exit 1"),
        rec(id="c3", state="crashed"),  # new since the last look: nothing to compare
    ]
    crashed, restarted = instance_notices(before, after, 9.0)
    assert (crashed.kind, crashed.instance, crashed.failure) == ("instance_crashed", "c1", True)
    assert crashed.body == "v0.3.77 :8188: exit code 1: CUDA error"
    assert (restarted.kind, restarted.instance) == ("instance_restarted", "c2")
    assert instance_notices({"c1": after[0]}, [after[0]], 10.0) == []  # told once


def test_downloads_and_installs() -> None:
    found = download_notices(
        {"a": "active", "b": "active", "c": "done"},
        [("a", "done", "x.safetensors", ""), ("b", "failed", "y.gguf", "HTTP 404"),
         ("c", "done", "z", ""), ("d", "failed", "new", "")],
        1.0,
    )  # fmt: skip
    assert [(n.kind, n.body) for n in found] == [
        ("download_finished", "x.safetensors"),
        ("download_failed", "y.gguf: HTTP 404"),
    ]
    [installed] = install_notices({"v0.3.76"}, ["v0.3.76", "v0.3.77"], 1.0)
    assert installed.body == "ComfyUI v0.3.77 is installed"


def test_jobs_terminal_and_command_environment() -> None:
    event = JobEvent("finished", "c1", "t", "p1", {"outputs": ["a.png"], "duration_s": 3.5}, 1.0)
    notice = job_notice(event, "v0.3.77 :8188")
    assert notice is not None and notice.body == "prompt done in 3.5s: a.png"
    assert job_notice(JobEvent("progress", "c1", "t"), "x") is None
    text = terminal_text(Notice("k", "A;b", "line\nbreak\x1b]", 0.0), bell=True, desktop=True)
    assert text == "\a\x1b]9;A;b: line break ]\x07\x1b]777;notify;A,b;line break ]\x07"
    env = command_env({"HF_TOKEN": "s", "PATH": "/bin"}, notice)
    assert "HF_TOKEN" not in env and env["COMFY_TUI_NOTICE_KIND"] == "job_finished"
    assert redacted("https://hooks.example.com/T000/secret?x=1") == "https://hooks.example.com/…"

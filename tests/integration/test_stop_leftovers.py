"""Stop means stopped: a fake ComfyUI starts a worker that ignores SIGINT (as a custom node's
might); `comfy-tui stop` leaves no process of the instance's group or session behind, whether
ComfyUI itself exits on SIGINT or not, and names what it had to kill."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from comfy_tui.paths import DataPaths
from comfy_tui.store.instance_records import InstanceRecord, load_instance
from tests.fakes.installed_version import install_fake_version
from tests.fakes.instance_lab import free_port
from tests.integration.test_cli import run

pytestmark = pytest.mark.usefixtures("no_leftover_children")

TAG = "v0.3.77"
GRACE = {"COMFY_TUI_STOP_GRACE": "1"}
"""For a stop that must kill: the stubborn worker never exits, so this is waited out."""
PATIENT = {"COMFY_TUI_STOP_GRACE": "120"}
"""For a stop that must not kill: ComfyUI exits on SIGINT, slowly on a loaded box, and the
stop returns as soon as it has (1 s was a race with that exit)."""


@pytest.fixture
def lab(data_dir: Path) -> Iterator[Path]:
    install_fake_version(DataPaths(data_dir), TAG)
    try:
        yield data_dir
    finally:
        run(data_dir, "stop", "--all")


def in_session(sid: int) -> list[int]:
    """Live (not zombie) processes whose session is `sid` (the supervisor's)."""
    found = []
    for proc in psutil.process_iter(["status"]):
        try:
            if os.getsid(proc.pid) == sid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                found.append(proc.pid)
        except OSError:
            continue
    return found


def launched(data_dir: Path, *env: str) -> InstanceRecord:
    args = [a for pair in (("--env", e) for e in env) for a in pair]
    result = run(data_dir, "launch", TAG, "--port", str(free_port()), "--json", *args)
    assert result.returncode == 0, result.stderr
    record = load_instance(DataPaths(data_dir), json.loads(result.stdout)["id"])
    assert record is not None and record.pgid is not None
    return record


def worker_of(record: InstanceRecord) -> int:
    others = [p for p in in_session(record.pgid or 0) if p not in (record.pid, record.pgid)]
    assert len(others) == 1, others
    return others[0]


@pytest.mark.parametrize("where", ["group", "own-group"])
@pytest.mark.parametrize("comfyui", ["exits", "ignores SIGINT"])
def test_stop_kills_a_worker_that_ignores_sigint(lab: Path, where: str, comfyui: str) -> None:
    env = [f"FAKE_COMFYUI_STUBBORN_CHILD={where}"]
    if comfyui == "ignores SIGINT":
        env.append("FAKE_COMFYUI_IGNORE_SIGINT=1")
    record = launched(lab, *env)
    worker = worker_of(record)
    stopped = run(lab, "stop", record.id, env=GRACE)
    assert stopped.returncode == 0, stopped.stderr
    assert f"killed what was left: {worker} (python" in stopped.stdout
    assert in_session(record.pgid or 0) == []
    assert not psutil.pid_exists(worker) or psutil.Process(worker).status() == "zombie"
    final = load_instance(DataPaths(lab), record.id)
    assert final is not None and not final.live


def test_stop_json_lists_what_was_killed(lab: Path) -> None:
    record = launched(lab, "FAKE_COMFYUI_STUBBORN_CHILD=group")
    worker = worker_of(record)
    stopped = run(lab, "stop", record.id, "--json", env=GRACE)
    assert stopped.returncode == 0, stopped.stderr
    (doc,) = json.loads(stopped.stdout)
    assert doc["was_running"] and [k.split()[0] for k in doc["killed"]] == [str(worker)]
    assert in_session(record.pgid or 0) == []


def test_a_plain_stop_kills_nothing_and_says_nothing_extra(lab: Path) -> None:
    record = launched(lab)
    stopped = run(lab, "stop", record.id, env=PATIENT)
    assert stopped.returncode == 0 and "killed" not in stopped.stdout
    assert in_session(record.pgid or 0) == []


def test_stopping_an_exited_instance_kills_what_it_left_behind(lab: Path) -> None:
    record = launched(lab, "FAKE_COMFYUI_STUBBORN_CHILD=group")
    worker = worker_of(record)
    assert record.pid is not None
    comfyui = psutil.Process(record.pid)
    comfyui.kill()  # ComfyUI dies; its worker lives on in the session
    comfyui.wait(timeout=30)
    stopped = run(lab, "stop", record.id, env=GRACE)
    assert stopped.returncode == 0, stopped.stderr
    assert f"killed what was left: {worker}" in stopped.stdout
    assert in_session(record.pgid or 0) == []

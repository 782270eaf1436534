"""`comfy-tui run | jobs | outputs | free | ps --json` against the fake ComfyUI, run for real."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.instance_lab import Lab
from tests.fakes.workflows import bad_checkpoint, failing, txt2img, write
from tests.integration.test_instances_detached import cli


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[tuple[Lab, str]]:
    lab = Lab(tmp_path)
    started = cli(lab, "launch", "--json")
    assert started.returncode == 0, started.stderr
    yield lab, json.loads(started.stdout)["id"]
    await lab.cleanup()


async def test_run_wait_prints_outputs_and_copies_them(
    running: tuple[Lab, str], tmp_path: Path
) -> None:
    lab, iid = running
    flow = write(tmp_path / "flow.json", txt2img(steps=5, prefix="cat"))
    done = cli(lab, "run", str(flow), "--wait", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["ok"] is True and doc["instance"] == iid
    [image] = doc["outputs"]
    assert Path(image).name == "cat_00001_.png" and Path(image).is_file()
    assert "KSampler 5/5" in done.stderr  # followed live over /ws

    copied = cli(lab, "outputs", iid, doc["prompt_id"], "--to", str(tmp_path / "got"))
    assert copied.returncode == 0, copied.stderr
    target = tmp_path / "got" / "cat_00001_.png"
    assert copied.stdout.split() == [str(target)]
    assert target.read_bytes() == Path(image).read_bytes()

    jobs = cli(lab, "jobs", iid, "--json")
    last = json.loads(jobs.stdout)["job"]["last"]
    assert last["prompt_id"] == doc["prompt_id"] and last["ok"] is True

    ps = cli(lab, "ps", "--json")
    [row] = json.loads(ps.stdout)
    assert row["job"]["queue_remaining"] == 0 and row["job"]["last"]["ok"] is True


async def test_run_failure_names_the_node_and_exits_1(
    running: tuple[Lab, str], tmp_path: Path
) -> None:
    lab, _ = running
    done = cli(lab, "run", str(write(tmp_path / "f.json", failing())), "--wait")
    assert done.returncode == 1
    assert "FakeError (#5)" in done.stderr and "RuntimeError: CUDA out of memory" in done.stderr


async def test_refused_workflow_lists_node_errors_and_exits_2(
    running: tuple[Lab, str], tmp_path: Path
) -> None:
    lab, _ = running
    done = cli(lab, "run", str(write(tmp_path / "b.json", bad_checkpoint())))
    assert done.returncode == 2
    assert "node 1 (CheckpointLoaderSimple): Value not in list" in done.stderr
    ui = write(tmp_path / "ui.json", {"nodes": [], "links": []})
    assert "UI-format" in cli(lab, "run", str(ui)).stderr


async def test_free_reaches_comfyui(running: tuple[Lab, str]) -> None:
    lab, iid = running
    done = cli(lab, "free", iid)
    assert done.returncode == 0, done.stderr
    log = lab.paths.instance_log(iid).read_text()
    assert '/free asked: {"free_memory": true, "unload_models": true}' in log


async def test_jobs_follow_prints_events_as_lines(running: tuple[Lab, str], tmp_path: Path) -> None:
    lab, iid = running
    hold = tmp_path / "go"
    with subprocess.Popen(
        [
            sys.executable,
            "-m",
            "comfy_tui",
            "--data-dir",
            str(lab.root),
            "jobs",
            iid,
            "-f",
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as follower:
        try:
            assert follower.stdout is not None
            while json.loads(follower.stdout.readline())["kind"] != "link":
                pass  # connected: nothing the job does can be missed now
            flow = write(tmp_path / "flow.json", txt2img(steps=8, hold_file=str(hold)))
            assert cli(lab, "run", str(flow)).returncode == 0
            seen: list[dict[str, object]] = []
            while not seen or seen[-1]["kind"] != "finished":
                event = json.loads(follower.stdout.readline())
                seen.append(event)
                if event["kind"] == "progress" and event["value"] == 4:
                    hold.touch()  # the job waits halfway until the test has seen it there
            kinds = [e["kind"] for e in seen]
            assert "started" in kinds and "node" in kinds and "output" in kinds
            assert any(e["text"] == "KSampler 4/8" for e in seen)
            assert seen[-1]["outputs"] == ["ComfyUI_00001_.png"]
        finally:
            follower.terminate()

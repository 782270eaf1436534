"""`comfy-tui stats` as a script sees it: a real process, replayed H200 readings, exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.cli_run import at_a_terminal, comfy_argv, run_cli
from tests.fakes.fake_nvml import FIXTURE
from tests.waiting import LAST_RESORT_S

FAST = "0.1"


def env_for(replay: Path | None = FIXTURE, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMFY_TUI_", "HF_"))}
    env.pop("GITHUB_TOKEN", None)
    env["COMFY_TUI_POLL_INTERVAL"] = FAST
    if replay is not None:
        env["COMFY_TUI_GPU_REPLAY"] = str(replay)
    env.update(extra)
    return env


def stats(
    data_dir: Path, *args: str, replay: Path | None = FIXTURE
) -> subprocess.CompletedProcess[str]:
    return run_cli(data_dir, "stats", *args, env=env_for(replay))


def test_stats_text_is_a_compact_table(data_dir: Path) -> None:
    result = stats(data_dir)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("GPU 0% · VRAM 0.6/140.4 GiB · CPU ")
    assert "1 GPU · driver 580.159.04 · CUDA 13.0" in lines
    header = next(line for line in lines if line.startswith("GPU NAME"))
    row = lines[lines.index(header) + 1]
    assert row.startswith("0   NVIDIA H200") and "n/a" in row, "fan is Not Supported on an H200"
    assert any(line.startswith("CPU ") and "cores" in line for line in lines)
    assert any(line.startswith("RAM ") for line in lines)
    assert any(line.startswith("DISK ") for line in lines)
    assert any(line.startswith("I/O ") for line in lines)
    assert result.stderr == ""


def test_stats_json_has_raw_numbers_and_units(data_dir: Path) -> None:
    result = stats(data_dir, "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema"] == 1
    gpu = doc["gpus"][0]
    assert gpu["name"] == "NVIDIA H200"
    assert gpu["memory_total_bytes"] == 150_754_820_096
    assert gpu["fan_speed_pct"] is None
    assert doc["gpu_info"]["driver_version"] == "580.159.04"
    system = doc["system"]
    assert system["cpu_percent"] is not None, "two ticks apart, so CPU % is real"
    assert system["per_cpu_percent"] is not None and len(system["per_cpu_percent"]) >= 1
    assert system["memory"]["total_bytes"] > 0
    assert system["disks"] and system["disks"][0]["total_bytes"] > 0
    assert doc["summary"]["gpu_available"] is True


def test_stats_without_gpu_is_normal(data_dir: Path, tmp_path: Path) -> None:
    empty = tmp_path / "no_gpu.json"
    empty.write_text(json.dumps({"system": {}, "samples": []}))
    result = stats(data_dir, replay=empty)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("no GPU · CPU")
    assert "GPU   No NVIDIA GPU (NVML library not found)" in result.stdout
    doc = json.loads(stats(data_dir, "--json", replay=empty).stdout)
    assert doc["gpus"] == [] and doc["gpu_info"]["available"] is False


def test_watch_json_streams_one_document_per_line(data_dir: Path) -> None:
    result = stats(data_dir, "--watch", "--json", "--count", "4")
    assert result.returncode == 0, result.stderr
    docs = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(docs) == 4
    utils = [d["gpus"][0]["utilization_gpu_pct"] for d in docs]
    assert utils == [0, 100, 100, 0], "the recording plays on: load_0..2, after"
    times = [d["timestamp_unix_s"] for d in docs]
    assert times == sorted(times)


def test_watch_text_prints_a_line_per_tick(data_dir: Path) -> None:
    result = stats(data_dir, "--watch", "--count", "2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    assert all(" GPU " in line and "· RAM " in line for line in lines)


def test_watch_ends_cleanly_on_ctrl_c(data_dir: Path) -> None:
    proc = subprocess.Popen(
        at_a_terminal(comfy_argv(data_dir, "stats", "--watch", "--json")),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env_for(),
        stdin=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        for _ in range(2):
            json.loads(proc.stdout.readline())
        proc.send_signal(signal.SIGINT)
        rest, stderr = proc.communicate(timeout=LAST_RESORT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    for line in rest.splitlines():
        json.loads(line)  # nothing half-written


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (["--count", "0", "--watch"], 2, "--count must be at least 1"),
    ],
)
def test_bad_input_is_one_line(data_dir: Path, args: list[str], code: int, needle: str) -> None:
    result = stats(data_dir, *args)
    assert result.returncode == code
    assert needle in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_unreadable_replay_file_is_one_line(data_dir: Path, tmp_path: Path) -> None:
    result = stats(data_dir, replay=tmp_path / "missing.json")
    assert result.returncode == 2
    assert result.stderr.startswith("comfy-tui: gpu_replay: cannot play GPU readings from")
    assert len(result.stderr.strip().splitlines()) == 1

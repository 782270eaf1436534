"""kill -9 a JSON writer at random moments; every file left behind must be a whole version.

The spec: "A test kills -9 a writer subprocess at random moments at least 200 times and
then finds every file parseable and equal to one of the versions written."
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import comfy_tui
from comfy_tui.store.jsonfile import backup_path, read_json, write_json
from tests.fakes import json_writer

KILLS = 200
MAX_DELAY_S = 0.040
REPO_ROOT = Path(comfy_tui.__file__).resolve().parent.parent
WRITER = Path(json_writer.__file__).resolve()


def _raw_version(path: Path) -> int | None:
    """Parse ``path`` byte for byte (no .bak fallback); return its ``n``, None if absent."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    doc: Any = json.loads(text)  # a torn file fails here
    assert isinstance(doc, dict), f"{path.name}: {doc!r:.80}"
    n = doc.get("n")
    assert isinstance(n, int), f"{path.name}: n={n!r}"
    assert doc == {**json_writer.version(n), "schema_version": 1}, f"{path.name}: n={n}"
    return n


def _tmp_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def _start_server(path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    return subprocess.Popen(
        [sys.executable, str(WRITER), str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )


def _kill_one_writer(server: subprocess.Popen[str], delay: float) -> tuple[str, str]:
    """Start a writer, kill -9 it `delay` s after its first write; its ready and exit lines."""
    assert server.stdin is not None and server.stdout is not None
    server.stdin.write("go\n")
    server.stdin.flush()
    ready = server.stdout.readline()
    if ready.startswith("ready "):
        time.sleep(delay)
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(ready.split()[1]), signal.SIGKILL)
    return ready, server.stdout.readline()


@pytest.mark.slow
def test_kill9_leaves_only_whole_versions(tmp_path: Path) -> None:
    rng = random.Random(20240611)
    path = tmp_path / "state.json"
    last_n = -1
    mid_write = 0  # kills that left a temporary file, i.e. landed inside a write
    server = _start_server(path)
    try:
        for kill in range(KILLS):
            ready, exited = _kill_one_writer(server, rng.uniform(0.0, MAX_DELAY_S))
            assert ready.startswith("ready "), f"kill {kill}: writer said {ready!r}, {exited!r}"
            pid = ready.split()[1]
            assert exited == f"exit {pid} {-signal.SIGKILL}\n", f"kill {kill}: {exited!r}"

            main_n = _raw_version(path)
            bak_n = _raw_version(backup_path(path))
            assert main_n is not None, f"kill {kill}: the data file is gone"
            # the writer resumed from last_n + 1 and wrote at least once before "ready"
            assert main_n > last_n, f"kill {kill}: n went from {last_n} back to {main_n}"
            if bak_n is not None:
                assert bak_n <= main_n, f"kill {kill}: .bak n={bak_n} is newer than n={main_n}"
            assert read_json(path) == json_writer.version(main_n)
            # each writer cleans what the previous one left; a killed one leaves at most a
            # data tmp and a backup tmp
            leftovers = _tmp_files(tmp_path)
            assert len(leftovers) <= 2, f"kill {kill}: {leftovers}"
            mid_write += bool(leftovers)
            last_n = main_n
    finally:
        assert server.stdin is not None and server.stdout is not None
        server.stdin.close()
        server.wait(timeout=60)
        server.stdout.close()
    assert server.returncode == 0

    assert last_n >= KILLS  # every run wrote at least once
    assert mid_write > 0, "no kill landed inside a write; the test proves nothing"
    write_json(path, json_writer.version(last_n + 1))
    assert _tmp_files(tmp_path) == []
    assert read_json(path) == json_writer.version(last_n + 1)
    assert _raw_version(backup_path(path)) == last_n

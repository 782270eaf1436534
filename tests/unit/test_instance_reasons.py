"""One-line reasons for an exit, read from the end of the log."""

from __future__ import annotations

from pathlib import Path

import pytest

from comfy_tui.services.instances.reasons import describe_exit, exit_reason, reason_from_text


@pytest.mark.parametrize(
    ("log", "reason"),
    [
        (
            "Starting server\nOSError: [Errno 98] error while attempting to bind on address "
            "('127.0.0.1', 8188): address already in use\n",
            "port 8188 is already in use",
        ),
        (
            "setup...\nASSETS_STARTUP_FAILED: in_use\nAnother ComfyUI is already using it\n",
            "ASSETS_STARTUP_FAILED: in_use",
        ),
        (
            "usage: main.py [-h]\nmain.py: error: unrecognized arguments: --bogus\n",
            "unrecognized arguments: --bogus",
        ),
        (
            'Traceback (most recent call last):\n  File "x.py", line 1\n'
            "ModuleNotFoundError: No module named 'requests'\n[comfy-tui] c1: crashed\n",
            "ModuleNotFoundError: No module named 'requests'",
        ),
        ("", ""),
    ],
)
def test_reason_from_text(log: str, reason: str) -> None:
    assert reason_from_text(log, port=8188) == reason


def test_describe_exit() -> None:
    assert describe_exit(1) == "exited with code 1"
    assert describe_exit(-9) == "killed by SIGKILL"
    assert describe_exit(None) == "exited"


def test_exit_reason_reads_only_this_launch(tmp_path: Path) -> None:
    log = tmp_path / "c1.log"
    log.write_text("old run: address already in use\n")
    since = log.stat().st_size
    with log.open("a") as f:
        f.write("Fatal: boom\n")
    assert exit_reason(log, since, 1, 8188) == "exited with code 1: Fatal: boom"
    assert exit_reason(tmp_path / "missing.log", 0, 2, None) == "exited with code 2"

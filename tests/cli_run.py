"""Running the real CLI as a child (`python -m comfy_tui --data-dir D ...`), as a user does."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

LAST_RESORT_S = 300.0
"""Only a hung command ever meets this (an install under load takes minutes, not this)."""


def comfy_argv(data_dir: Path | str, *args: str) -> list[str]:
    """The command line of `comfy-tui --data-dir data_dir args...` run by this interpreter."""
    return [sys.executable, "-m", "comfy_tui", "--data-dir", str(data_dir), *args]


def run_cli(
    data_dir: Path | str,
    *args: str,
    env: Mapping[str, str] | None = None,
    timeout: float = LAST_RESORT_S,
) -> subprocess.CompletedProcess[str]:
    """Run it to the end with no terminal on stdin; its text output captured, any exit code."""
    return subprocess.run(
        comfy_argv(data_dir, *args),
        capture_output=True,
        text=True,
        env=None if env is None else dict(env),
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )

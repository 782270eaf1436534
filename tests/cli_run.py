"""Running the real CLI as a child (`python -m comfy_tui --data-dir D ...`), as a user does.

`at_a_terminal` starts a child that a test then interrupts (Ctrl-C) or hangs up on the way a
command typed at a terminal starts: with SIGINT, SIGQUIT and SIGHUP at their defaults. A child
inherits an ignored signal, and a test run may have been started with some ignored: a script's
background job (``pytest &`` in a shell without job control) ignores SIGINT and SIGQUIT, and
``nohup`` ignores SIGHUP. A Python child that starts with SIGINT ignored installs no
KeyboardInterrupt handler (so neither does ``asyncio.run``), and Ctrl-C would do nothing.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

LAST_RESORT_S = 300.0
"""Only a hung command ever meets this (an install under load takes minutes, not this)."""


def comfy_argv(data_dir: Path | str, *args: str) -> list[str]:
    """The command line of `comfy-tui --data-dir data_dir args...` run by this interpreter."""
    return [sys.executable, "-m", "comfy_tui", "--data-dir", str(data_dir), *args]


_AT_DEFAULT = (
    "import os, signal, sys\n"
    "for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGHUP):\n"
    "    signal.signal(sig, signal.SIG_DFL)\n"
    "os.execv(sys.argv[1], sys.argv[1:])\n"
)
"""Sets the terminal's signals to their defaults, then becomes the command (same pid)."""


def at_a_terminal(argv: Sequence[str]) -> list[str]:
    """`argv` (its first item a path) started with SIGINT, SIGQUIT and SIGHUP at their default
    actions, however this test run was started; the child keeps the pid `Popen` reports."""
    return [sys.executable, "-S", "-c", _AT_DEFAULT, *argv]


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

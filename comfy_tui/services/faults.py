"""Test-only fault injection: the process kills itself with SIGKILL at a named step, or waits
there for a gate file (to hold a race open: `COMFY_TUI_TEST_PAUSE_AT=<step>=<gate>`).

Multi-step changes (an import, a snapshot restore) call `checkpoint("import.placed")` between
their steps. Only when the environment variable `COMFY_TUI_TEST_KILL_AT` names that step does
anything happen; the crash-recovery tests set it to prove the next command repairs the state.
In normal use the cost is one dictionary lookup.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

__all__ = ["KILL_AT_ENV", "PAUSE_AT_ENV", "checkpoint", "pause_point"]

KILL_AT_ENV = "COMFY_TUI_TEST_KILL_AT"
PAUSE_AT_ENV = "COMFY_TUI_TEST_PAUSE_AT"


def checkpoint(step: str) -> None:
    """SIGKILL this process when `COMFY_TUI_TEST_KILL_AT` is `step` (tests only)."""
    if os.environ.get(KILL_AT_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


def pause_point(step: str) -> None:
    """When `COMFY_TUI_TEST_PAUSE_AT` is `<step>=<gate>`: create `<gate>.reached`, then wait
    (blocking: call it in a worker thread) until `<gate>` exists (tests only)."""
    wanted, _, gate = os.environ.get(PAUSE_AT_ENV, "").partition("=")
    if wanted != step or not gate:
        return
    Path(gate + ".reached").touch()
    while not Path(gate).exists():
        time.sleep(0.01)

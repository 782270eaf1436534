"""Test-only fault injection: the process kills itself with SIGKILL at a named step.

Multi-step changes (an import, a snapshot restore) call `checkpoint("import.placed")` between
their steps. Only when the environment variable `COMFY_TUI_TEST_KILL_AT` names that step does
anything happen; the crash-recovery tests set it to prove the next command repairs the state.
In normal use the cost is one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

__all__ = ["KILL_AT_ENV", "checkpoint"]

KILL_AT_ENV = "COMFY_TUI_TEST_KILL_AT"


def checkpoint(step: str) -> None:
    """SIGKILL this process when `COMFY_TUI_TEST_KILL_AT` is `step` (tests only)."""
    if os.environ.get(KILL_AT_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)

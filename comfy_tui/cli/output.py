"""Everything the CLI writes: results on stdout (text or one JSON document), the rest on stderr."""

from __future__ import annotations

import json
import sys
from typing import Any

from comfy_tui.events import Event, Failed, Finished, LogLine, Progress


def out(text: str = "") -> None:
    """A line of the human-readable result."""
    print(text, flush=True)


def out_json(document: Any) -> None:
    """The single JSON document a `--json` run prints."""
    print(json.dumps(document, indent=2, sort_keys=True, default=str), flush=True)


def err(text: str) -> None:
    """A message for the user that is not the result (errors, progress)."""
    print(text, file=sys.stderr, flush=True)


def show_event(event: Event) -> None:
    """Render one service event on stderr."""
    if isinstance(event, Progress):
        pct = f"{event.fraction * 100:5.1f}%"
        detail = f" {event.detail}" if event.detail else ""
        err(f"[{pct}] {event.step}{detail}")
    elif isinstance(event, LogLine):
        err(f"  {event.source + ': ' if event.source else ''}{event.text}")
    elif isinstance(event, Finished):
        err(f"done{': ' + event.detail if event.detail else ''}")
    elif isinstance(event, Failed):
        err(f"failed: {event.reason}")


class ProgressPrinter:
    """Shows a job's events on stderr: every LogLine, Progress only when a step starts or the
    whole moved `step` (5 %), and not Finished (the result goes to stdout)."""

    def __init__(self, step: float = 0.05) -> None:
        self.step_size = step
        self.step = ""
        self.shown = -1.0

    def __call__(self, event: Event) -> None:
        if isinstance(event, Progress):
            if event.step == self.step and event.fraction < self.shown + self.step_size:
                return
            self.step, self.shown = event.step, event.fraction
        if isinstance(event, Finished):
            return
        show_event(event)

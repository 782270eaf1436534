"""Screens run what they await from a service in `@work` methods (docs/architecture.md, "Screen
work"): `run_worker` is called only by the App's job runner and the three feeds."""

from __future__ import annotations

from pathlib import Path

import comfy_tui

ALLOWED = {"ui/app.py", "ui/state_feed.py", "ui/downloads_feed.py", "ui/stats_feed.py"}


def test_run_worker_only_in_the_job_runner_and_the_feeds() -> None:
    root = Path(comfy_tui.__file__).parent
    callers = {
        path.relative_to(root).as_posix()
        for path in root.rglob("*.py")
        if "run_worker(" in path.read_text(encoding="utf-8")
    }
    assert callers == ALLOWED

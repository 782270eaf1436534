"""Shared pieces of the library integration tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

from comfy_tui.events import Event
from comfy_tui.paths import DataPaths
from comfy_tui.services.library.service import LibraryService
from comfy_tui.settings import Settings

NOW = 1_700_000_000.0
Completed = subprocess.CompletedProcess[str]


def make_library(data_dir: Path, *roots: Path) -> LibraryService:
    settings = Settings(data_dir=data_dir, library_roots=tuple(roots))
    return LibraryService(settings, DataPaths(data_dir), clock=lambda: NOW)


async def drain(events: AsyncIterator[Event]) -> list[Event]:
    return [event async for event in events]


def run_cli(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> Completed:
    """`comfy-tui --data-dir DATA ARGS...` as a script runs it (no COMFY_TUI_/HF_ settings
    from the developer's environment; `env` adds variables)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("COMFY_TUI_", "HF_"))}
    return subprocess.run(
        [sys.executable, "-m", "comfy_tui", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        env={**clean, **(env or {})},
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def ok(result: Completed) -> Completed:
    """The result of a command that must succeed without a traceback."""
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result

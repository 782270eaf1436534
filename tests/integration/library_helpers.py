"""Shared pieces of the library integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from comfy_tui.events import Event
from comfy_tui.paths import DataPaths
from comfy_tui.services.library.service import LibraryService
from comfy_tui.settings import Settings

NOW = 1_700_000_000.0


def make_library(data_dir: Path, *roots: Path) -> LibraryService:
    settings = Settings(data_dir=data_dir, library_roots=tuple(roots))
    return LibraryService(settings, DataPaths(data_dir), clock=lambda: NOW)


async def drain(events: AsyncIterator[Event]) -> list[Event]:
    return [event async for event in events]

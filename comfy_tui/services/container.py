"""The services one front end (TUI or CLI) uses, built once from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from comfy_tui.paths import DataPaths
from comfy_tui.settings import Settings


@dataclass
class Services:
    """One attribute per service; later features add theirs here."""

    settings: Settings
    paths: DataPaths


def build_services(settings: Settings) -> Services:
    """Build every service from the settings (no I/O happens until a service is used)."""
    return Services(settings=settings, paths=DataPaths(settings.data_dir))

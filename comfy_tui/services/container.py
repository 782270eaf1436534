"""The services one front end (TUI or CLI) uses, built once from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from comfy_tui.paths import DataPaths
from comfy_tui.services.downloads import DownloadQueue
from comfy_tui.settings import Settings


@dataclass
class Services:
    """One attribute per service; later features add theirs here."""

    settings: Settings
    paths: DataPaths
    downloads: DownloadQueue


def build_services(settings: Settings) -> Services:
    """Build every service from the settings (no I/O happens until a service is used)."""
    paths = DataPaths(settings.data_dir)
    return Services(settings=settings, paths=paths, downloads=DownloadQueue(settings, paths))

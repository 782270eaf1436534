"""The services one front end (TUI or CLI) uses, built once from the settings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from comfy_tui.paths import DataPaths
from comfy_tui.services.github import GitHubReleases
from comfy_tui.services.nodes import NodesService
from comfy_tui.services.versions import VersionsService
from comfy_tui.settings import Settings

RunningVersions = Callable[[], Awaitable[Mapping[str, int]]]
"""tag -> how many instances of that version run now (the Versions screen's running marker)."""


async def nothing_running() -> Mapping[str, int]:
    """The running marker's source until the instances feature wires its own."""
    return {}


@dataclass
class Services:
    """One attribute per service; later features add theirs here."""

    settings: Settings
    paths: DataPaths
    releases: GitHubReleases
    versions: VersionsService
    running_versions: RunningVersions
    nodes: NodesService


def build_services(settings: Settings) -> Services:
    """Build every service from the settings (no I/O happens until a service is used)."""
    paths = DataPaths(settings.data_dir)
    return Services(
        settings=settings,
        paths=paths,
        releases=GitHubReleases(settings, paths),
        versions=VersionsService(settings, paths),
        running_versions=nothing_running,
        nodes=NodesService(settings, paths, running_versions=nothing_running),
    )

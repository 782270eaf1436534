"""The services one front end (TUI or CLI) uses: built once from the settings, wired together."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from comfy_tui.errors import SettingsError
from comfy_tui.paths import DataPaths
from comfy_tui.services.downloads import DownloadQueue
from comfy_tui.services.github import GitHubReleases
from comfy_tui.services.instances.service import InstancesService
from comfy_tui.services.jobs.service import JobsService
from comfy_tui.services.library.mapping import wiring_problems
from comfy_tui.services.library.service import LibraryService
from comfy_tui.services.monitor import GpuBackend, Monitor, NvmlBackend, ReplayBackend
from comfy_tui.services.nodes import NodesService
from comfy_tui.services.notify.notifier import Notifier
from comfy_tui.services.versions import VersionsService
from comfy_tui.settings import Settings
from comfy_tui.store.instance_records import list_instances

RunningVersions = Callable[[], Awaitable[Mapping[str, int]]]
"""tag -> how many instances of that version run now (the Versions screen's running marker)."""


def _no_instance_labels() -> Mapping[str, str]:
    return {}


@dataclass
class Services:
    """One attribute per service."""

    settings: Settings
    paths: DataPaths
    releases: GitHubReleases
    versions: VersionsService
    running_versions: RunningVersions
    instances: InstancesService
    library: LibraryService
    nodes: NodesService
    downloads: DownloadQueue
    monitor: Monitor
    """The one sampler of CPU, RAM, disks, GPUs and instances (the App runs it)."""
    instance_labels: Callable[[], Mapping[str, str]] = field(default=_no_instance_labels)
    """Instance id -> what the screens call it, e.g. "v0.3.77 :8188"."""
    jobs: JobsService = field(default_factory=JobsService)
    """Live job progress of the watched instances (the notifier decides which)."""
    notifier: Notifier | None = None
    """Notices of jobs, crashes, downloads and installs (the App runs it)."""


def gpu_backend(settings: Settings) -> GpuBackend:
    """NVML, or the recording named by the `gpu_replay` testing setting."""
    if settings.gpu_replay is None:
        return NvmlBackend()
    try:
        return ReplayBackend.from_fixture(settings.gpu_replay)
    except (OSError, ValueError) as exc:  # json.JSONDecodeError is a ValueError
        raise SettingsError(
            f"gpu_replay: cannot play GPU readings from {settings.gpu_replay} ({exc})"
        ) from exc


def instance_roots(paths: DataPaths) -> Mapping[str, int]:
    """Instance id -> ComfyUI's pid, for every live instance (blocking: the sampler's thread)."""
    return {r.id: r.pid for r in list_instances(paths) if r.live and r.pid is not None}


def instance_labels(paths: DataPaths) -> Mapping[str, str]:
    """Instance id -> "v0.3.77 :8188", the name GPU process lists and usage rows show."""
    return {r.id: f"{r.version} :{r.port}" for r in list_instances(paths) if r.live}


def _wiring(library: LibraryService) -> Callable[[Mapping[str, Any]], list[str]]:
    return lambda reported: wiring_problems(reported, library.roots())


def build_monitor(settings: Settings, paths: DataPaths) -> Monitor:
    """The monitor: disks of the data dir and the model library, every `poll_interval` s."""
    return Monitor(
        gpu_backend(settings),
        disk_paths=(paths.root, paths.root / "library" / "models"),
        interval=settings.poll_interval,
        instance_roots=lambda: instance_roots(paths),
    )


def build_services(settings: Settings) -> Services:
    """Build every service from the settings (no I/O happens until a service is used,
    except reading the `gpu_replay` recording when that testing aid is set)."""
    paths = DataPaths(settings.data_dir)
    library = LibraryService(settings, paths)
    instances = InstancesService(
        settings,
        paths,
        model_paths=library.map_into_version,
        wiring=None if settings.model_mapping == "symlinks" else _wiring(library),
    )
    downloads = DownloadQueue(settings, paths)
    jobs = JobsService(poll_interval=settings.poll_interval)
    downloads.on_complete = library.index_download
    return Services(
        settings=settings,
        paths=paths,
        releases=GitHubReleases(settings, paths),
        versions=VersionsService(settings, paths, is_running=instances.is_running),
        running_versions=instances.running_versions,
        instances=instances,
        library=library,
        downloads=downloads,
        nodes=NodesService(settings, paths, running_versions=instances.running_versions),
        monitor=build_monitor(settings, paths),
        instance_labels=lambda: instance_labels(paths),
        jobs=jobs,
        notifier=Notifier(settings, paths, jobs),
    )

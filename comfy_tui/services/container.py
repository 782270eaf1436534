"""The services every front end uses (the TUI and each CLI subcommand): one container.

`Services(settings)` is the only place services are wired together: the instances service
gets the model library (`model_paths`, the wiring check) and the version guard; versions and
nodes get the same guard (which versions run, the version lock). No service has a default
for any of these, so a front end that builds one by hand has to say where each comes from.

Each service is built on first use and then kept, and its module is imported only then, so a
subcommand pays only for what it touches (`comfy-tui ps` builds the guard and the instances
service; it never imports the downloads engine, the library index or the monitor). A test
may replace any service by assigning it before the first use (``services.versions = ...``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from comfy_tui.errors import SettingsError
from comfy_tui.paths import DataPaths
from comfy_tui.settings import Settings

if TYPE_CHECKING:
    from comfy_tui.services.downloads import DownloadQueue
    from comfy_tui.services.fleet.service import Fleet
    from comfy_tui.services.github import GitHubReleases
    from comfy_tui.services.instances.gpus import GpuMemory
    from comfy_tui.services.instances.service import InstancesService
    from comfy_tui.services.jobs.service import JobsService
    from comfy_tui.services.library.service import LibraryService
    from comfy_tui.services.lifecycle.service import LifecycleService
    from comfy_tui.services.monitor import GpuBackend, Monitor
    from comfy_tui.services.nodes import NodesService
    from comfy_tui.services.notify.notifier import Notifier
    from comfy_tui.services.trash_service import TrashService
    from comfy_tui.services.version_guard import VersionGuard
    from comfy_tui.services.versions import VersionsService

RunningVersions = Callable[[], Awaitable[Mapping[str, int]]]
"""tag -> how many instances of that version run now (the Versions screen's running marker)."""

T = TypeVar("T")


class Lazy(Generic[T]):
    """A service attribute built by `build(services)` on first read, then kept; assignable."""

    def __init__(self, build: Callable[[Services], T]) -> None:
        self.build = build
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = "_lazy_" + name

    @overload
    def __get__(self, obj: None, owner: type) -> Lazy[T]: ...
    @overload
    def __get__(self, obj: Services, owner: type) -> T: ...
    def __get__(self, obj: Services | None, owner: type) -> Lazy[T] | T:
        if obj is None:
            return self
        try:
            value: T = obj.__dict__[self.name]
        except KeyError:
            value = obj.__dict__[self.name] = self.build(obj)
        return value

    def __set__(self, obj: Services, value: T) -> None:
        obj.__dict__[self.name] = value


def _guard(s: Services) -> VersionGuard:
    from comfy_tui.services.version_guard import VersionGuard, live_instances

    return VersionGuard(s.paths, live=lambda: live_instances(s.paths))


def _releases(s: Services) -> GitHubReleases:
    from comfy_tui.services.github import GitHubReleases

    return GitHubReleases(s.settings, s.paths)


def _versions(s: Services) -> VersionsService:
    from comfy_tui.services.versions import VersionsService

    return VersionsService(s.settings, s.paths, guard=s.guard)


def _lifecycle(s: Services) -> LifecycleService:
    from comfy_tui.services.lifecycle.service import LifecycleService

    return LifecycleService(
        s.settings,
        s.paths,
        guard=s.guard,
        versions=s.versions,
        nodes=s.nodes,
        instances=s.instances,
    )


def _library(s: Services) -> LibraryService:
    from comfy_tui.services.library.service import LibraryService

    return LibraryService(s.settings, s.paths)


def build_instances(s: Services, **options: Any) -> InstancesService:
    """The instances service wired to `s` (guard, model library); `options` are the
    service's own keyword options (gpu_count, clock, hostname, ...: tests pin them)."""
    from comfy_tui.services.instances.service import InstancesService

    if s.settings.gpu_replay is not None:  # the testing aid stands for NVML here too
        options.setdefault("gpu_count", lambda: len(gpu_backend(s.settings).sample()))
    options.setdefault("gpu_memory", lambda: gpu_memory(s.settings))
    return InstancesService(
        s.settings,
        s.paths,
        guard=s.guard,
        model_paths=lambda tag: s.library.map_into_version(tag),
        wiring=None if s.settings.model_mapping == "symlinks" else _wiring(s),
        **options,
    )


def _wiring(s: Services) -> Callable[[Mapping[str, Any]], list[str]]:
    from comfy_tui.services.library.mapping import wiring_problems

    return lambda reported: wiring_problems(reported, s.library.roots())


def _nodes(s: Services) -> NodesService:
    from comfy_tui.services.nodes import NodesService

    return NodesService(s.settings, s.paths, guard=s.guard)


def _trash(s: Services) -> TrashService:
    from comfy_tui.services.trash_service import TrashService

    return TrashService(s.settings, s.paths, s.library)


def _downloads(s: Services) -> DownloadQueue:
    from comfy_tui.services.downloads import DownloadQueue

    return DownloadQueue(
        s.settings,
        s.paths,
        on_complete=lambda path, meta: s.library.index_download(path, meta),
    )


def _monitor(s: Services) -> Monitor:
    return build_monitor(s.settings, s.paths)


def _running_versions(s: Services) -> RunningVersions:
    return lambda: s.guard.running_versions()


def _jobs(s: Services) -> JobsService:
    from comfy_tui.services.jobs.service import JobsService

    return JobsService(poll_interval=s.settings.poll_interval)


def _notifier(s: Services) -> Notifier:
    from comfy_tui.services.notify.notifier import Notifier

    return Notifier(s.settings, s.paths, s.jobs)


def _fleet(s: Services) -> Fleet:
    from comfy_tui.services.fleet.service import Fleet

    return Fleet(s.settings.hosts)


def _instance_labels(s: Services) -> Callable[[], Mapping[str, str]]:
    return lambda: instance_labels(s.paths)


class Services:
    """One attribute per service, each built on first use (see the module docstring)."""

    guard: Lazy[VersionGuard] = Lazy(_guard)
    """Which versions run, and the version lock (launch shared, remove/restore exclusive)."""
    releases: Lazy[GitHubReleases] = Lazy(_releases)
    versions: Lazy[VersionsService] = Lazy(_versions)
    library: Lazy[LibraryService] = Lazy(_library)
    lifecycle: Lazy[LifecycleService] = Lazy(_lifecycle)
    """Install any ref, update with a rollback point, upgrade rehearsal, switch, rollback."""
    instances: Lazy[InstancesService] = Lazy(build_instances)
    nodes: Lazy[NodesService] = Lazy(_nodes)
    downloads: Lazy[DownloadQueue] = Lazy(_downloads)
    trash: Lazy[TrashService] = Lazy(_trash)
    """What removing a model, a version or a node put aside (restorable)."""
    monitor: Lazy[Monitor] = Lazy(_monitor)
    """The one sampler of CPU, RAM, disks, GPUs and instances (the App runs it)."""
    running_versions: Lazy[RunningVersions] = Lazy(_running_versions)
    instance_labels: Lazy[Callable[[], Mapping[str, str]]] = Lazy(_instance_labels)
    """Instance id -> what the screens call it, e.g. "v0.3.77 :8188"."""
    jobs: Lazy[JobsService] = Lazy(_jobs)
    """Live job progress of the watched instances (the notifier decides which)."""
    notifier: Lazy[Notifier] = Lazy(_notifier)
    """Notices of jobs, crashes, downloads and installs (the App runs it)."""
    fleet: Lazy[Fleet] = Lazy(_fleet)
    """The `[[hosts]]`: one SSH connection each (the Fleet screen, `comfy-tui fleet`)."""

    def __init__(self, settings: Settings, paths: DataPaths | None = None) -> None:
        self.settings = settings
        self.paths = paths or DataPaths(settings.data_dir)

    def built(self) -> list[str]:
        """The services built so far (what a command paid for)."""
        return sorted(k.removeprefix("_lazy_") for k in self.__dict__ if k.startswith("_lazy_"))


def gpu_backend(settings: Settings) -> GpuBackend:
    """NVML, or the recording named by the `gpu_replay` testing setting."""
    from comfy_tui.services.monitor import NvmlBackend, ReplayBackend

    if settings.gpu_replay is None:
        return NvmlBackend()
    try:
        return ReplayBackend.from_fixture(settings.gpu_replay)
    except (OSError, ValueError) as exc:  # json.JSONDecodeError is a ValueError
        raise SettingsError(
            f"gpu_replay: cannot play GPU readings from {settings.gpu_replay} ({exc})"
        ) from exc


def gpu_memory(settings: Settings) -> list[GpuMemory]:
    """Free memory of every GPU now (blocking: one NVML sample, or the replay's next frame)."""
    from comfy_tui.services.instances.gpus import read_gpu_memory

    backend = gpu_backend(settings)
    try:
        return read_gpu_memory(backend.sample(processes=False))
    finally:
        backend.close()


def instance_roots(paths: DataPaths) -> Mapping[str, int]:
    """Instance id -> ComfyUI's pid, for every live instance (blocking: the sampler's thread)."""
    from comfy_tui.store.instance_records import list_instances

    return {r.id: r.pid for r in list_instances(paths) if r.live and r.pid is not None}


def instance_labels(paths: DataPaths) -> Mapping[str, str]:
    """Instance id -> "v0.3.77 :8188", the name GPU process lists and usage rows show."""
    from comfy_tui.store.instance_records import list_instances

    return {r.id: f"{r.version} :{r.port}" for r in list_instances(paths) if r.live}


def build_monitor(settings: Settings, paths: DataPaths) -> Monitor:
    """The monitor: disks of the data dir and the model library, every `poll_interval` s."""
    from comfy_tui.services.monitor import Monitor

    return Monitor(
        gpu_backend(settings),
        disk_paths=(paths.root, paths.root / "library" / "models"),
        interval=settings.poll_interval,
        instance_roots=lambda: instance_roots(paths),
    )


def build_services(settings: Settings) -> Services:
    """The container for `settings` (nothing is built or read until a service is used)."""
    return Services(settings)

"""The services one front end (TUI or CLI) uses, built once from the settings."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from comfy_tui.errors import SettingsError
from comfy_tui.paths import DataPaths
from comfy_tui.services.monitor import GpuBackend, Monitor, NvmlBackend, ReplayBackend
from comfy_tui.settings import Settings


def _no_instance_labels() -> Mapping[str, str]:
    return {}


@dataclass
class Services:
    """One attribute per service; later features add theirs here."""

    settings: Settings
    paths: DataPaths
    monitor: Monitor
    """The one sampler of CPU, RAM, disks, GPUs and instances (the App runs it)."""
    instance_labels: Callable[[], Mapping[str, str]] = field(default=_no_instance_labels)
    """Instance id -> what the screens call it, e.g. "v0.3.77 :8188" (wired by Instances)."""


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


def build_monitor(settings: Settings, paths: DataPaths) -> Monitor:
    """The monitor: disks of the data dir and the model library, every `poll_interval` s."""
    return Monitor(
        gpu_backend(settings),
        disk_paths=(paths.root, paths.root / "library" / "models"),
        interval=settings.poll_interval,
    )


def build_services(settings: Settings) -> Services:
    """Build every service from the settings (no I/O happens until a service is used,
    except reading the `gpu_replay` recording when that testing aid is set)."""
    paths = DataPaths(settings.data_dir)
    return Services(settings=settings, paths=paths, monitor=build_monitor(settings, paths))

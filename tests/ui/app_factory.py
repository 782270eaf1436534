"""Builds the app the way the CLI does, on a throwaway data dir, for Pilot and snapshot tests.

The monitor is a deterministic replay (the recorded H200 at idle unless a test passes
another from `tests.fakes.monitor_boxes`) and its sampler is off unless ``sampling``:
tests deliver ticks with `app.stats.sample_now()`, so no live timer changes a snapshot.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType

from comfy_tui.services.container import build_services
from comfy_tui.services.monitor import Monitor
from comfy_tui.settings import Settings
from comfy_tui.ui.app import ComfyTuiApp
from comfy_tui.ui.factory import make_app
from tests.fakes import monitor_boxes

SMALL = (80, 24)
LARGE = (120, 40)


def make_test_app(
    data_dir: Path | None = None,
    keymap: Mapping[str, str] | None = None,
    *,
    monitor: Monitor | None = None,
    sampling: bool = False,
    instance_labels: Callable[[], Mapping[str, str]] | None = None,
) -> ComfyTuiApp:
    root = data_dir or Path(tempfile.mkdtemp(prefix="comfy-tui-test-"))
    settings = Settings(data_dir=root, keymap=MappingProxyType(dict(keymap or {})))
    services = build_services(settings)
    services.monitor = monitor if monitor is not None else monitor_boxes.h200()
    if instance_labels is not None:
        services.instance_labels = instance_labels
    return make_app(settings, services=services, sampling=sampling)

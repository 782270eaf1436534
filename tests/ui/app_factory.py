"""Builds the app the way the CLI does, on a throwaway data dir, for Pilot and snapshot tests."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from comfy_tui.settings import Settings
from comfy_tui.ui.app import ComfyTuiApp
from comfy_tui.ui.factory import make_app

SMALL = (80, 24)
LARGE = (120, 40)


def make_test_app(
    data_dir: Path | None = None, keymap: Mapping[str, str] | None = None
) -> ComfyTuiApp:
    root = data_dir or Path(tempfile.mkdtemp(prefix="comfy-tui-test-"))
    settings = Settings(data_dir=root, keymap=MappingProxyType(dict(keymap or {})))
    return make_app(settings)

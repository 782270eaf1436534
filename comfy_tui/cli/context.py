"""What every subcommand handler receives: the settings, the paths, the output mode, and the
same services container the TUI uses (`services/container.py`: each service is built on first
use, so a subcommand pays only for the services it touches)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from comfy_tui.paths import DataPaths
from comfy_tui.services.container import Services
from comfy_tui.settings import Settings


@dataclass(frozen=True)
class Context:
    settings: Settings
    paths: DataPaths
    json: bool
    services: Services


Handler = Callable[[Context, argparse.Namespace], int]

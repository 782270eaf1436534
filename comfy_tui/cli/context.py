"""What every subcommand handler receives: the settings, the paths and the output mode."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass

from comfy_tui.paths import DataPaths
from comfy_tui.settings import Settings


@dataclass(frozen=True)
class Context:
    settings: Settings
    paths: DataPaths
    json: bool


Handler = Callable[[Context, argparse.Namespace], int]

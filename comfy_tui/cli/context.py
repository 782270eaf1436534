"""What every subcommand handler receives: the settings, the paths, the output mode, and the
same services container the TUI uses (`services/container.py`: each service is built on first
use, so a subcommand pays only for the services it touches)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from comfy_tui.paths import DataPaths
    from comfy_tui.services.container import Services
    from comfy_tui.settings import Settings


class Context:
    """A plain class, not a dataclass: every command builds one, and making a dataclass's
    methods at import costs a command start about half a millisecond."""

    __slots__ = ("json", "paths", "services", "settings")

    def __init__(
        self, settings: Settings, paths: DataPaths, json: bool, services: Services
    ) -> None:
        self.settings = settings
        self.paths = paths
        self.json = json
        self.services = services


Handler = Callable[[Context, argparse.Namespace], int]

"""Which function runs each subcommand. Features replace their `not built yet` entry."""

from __future__ import annotations

import argparse

from comfy_tui.cli.config_cmd import run_config
from comfy_tui.cli.context import Context, Handler
from comfy_tui.cli.downloads_cmd import run_models_download
from comfy_tui.errors import FeatureUnavailableError


def not_built_yet(ctx: Context, args: argparse.Namespace) -> int:
    raise FeatureUnavailableError(f"'comfy-tui {args.command}' is not built yet in this version")


HANDLERS: dict[str, Handler] = {
    "config": run_config,
    "models download": run_models_download,
}


def handler_for(command: str) -> Handler:
    return HANDLERS.get(command, not_built_yet)

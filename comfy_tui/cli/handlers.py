"""Which function runs each subcommand. Features replace their `not built yet` entry."""

from __future__ import annotations

import argparse

from comfy_tui.cli.config_cmd import run_config
from comfy_tui.cli.context import Context, Handler
from comfy_tui.cli.downloads_cmd import run_models_download
from comfy_tui.cli.instances_cmd import run_launch, run_logs, run_ps, run_restart, run_stop
from comfy_tui.cli.models_cmd import HANDLERS as MODELS_HANDLERS
from comfy_tui.cli.nodes_cmd import (
    run_nodes_add,
    run_nodes_disable,
    run_nodes_enable,
    run_nodes_list,
    run_nodes_rm,
    run_nodes_update,
)
from comfy_tui.cli.releases_cmd import run_releases
from comfy_tui.cli.snapshot_cmd import (
    run_snapshot_create,
    run_snapshot_list,
    run_snapshot_restore,
)
from comfy_tui.cli.stats_cmd import run_stats
from comfy_tui.cli.versions_cmd import run_default, run_install, run_remove, run_versions
from comfy_tui.errors import FeatureUnavailableError


def not_built_yet(ctx: Context, args: argparse.Namespace) -> int:
    raise FeatureUnavailableError(f"'comfy-tui {args.command}' is not built yet in this version")


HANDLERS: dict[str, Handler] = {
    "config": run_config,
    "launch": run_launch,
    "ps": run_ps,
    "stop": run_stop,
    "restart": run_restart,
    "logs": run_logs,
    "releases": run_releases,
    "versions": run_versions,
    "install": run_install,
    "remove": run_remove,
    "default": run_default,
    **MODELS_HANDLERS,
    "stats": run_stats,
    "nodes list": run_nodes_list,
    "nodes add": run_nodes_add,
    "nodes update": run_nodes_update,
    "nodes enable": run_nodes_enable,
    "nodes disable": run_nodes_disable,
    "nodes rm": run_nodes_rm,
    "snapshot list": run_snapshot_list,
    "snapshot create": run_snapshot_create,
    "snapshot restore": run_snapshot_restore,
    "models download": run_models_download,
}


def handler_for(command: str) -> Handler:
    return HANDLERS.get(command, not_built_yet)

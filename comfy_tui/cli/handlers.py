"""Which function runs each subcommand, imported only when that subcommand runs.

Each command module pulls in its own services (aiohttp, aiosqlite, huggingface_hub, ...), so a
lazy table keeps `comfy-tui --version` and every other command from paying for all of them.
"""

from __future__ import annotations

import importlib
from typing import cast

from comfy_tui.cli.context import Handler

HANDLERS: dict[str, str] = {
    "config": "config_cmd:run_config",
    "releases": "releases_cmd:run_releases",
    "versions": "versions_cmd:run_versions",
    "install": "versions_cmd:run_install",
    "remove": "versions_cmd:run_remove",
    "default": "versions_cmd:run_default",
    "update": "lifecycle_cmd:run_update",
    "upgrade": "lifecycle_cmd:run_upgrade",
    "rollback": "lifecycle_cmd:run_rollback",
    "adopt": "adopt_cmd:run_adopt",
    "launch": "instances_cmd:run_launch",
    "ps": "instances_cmd:run_ps",
    "stop": "instances_cmd:run_stop",
    "restart": "instances_cmd:run_restart",
    "logs": "instances_cmd:run_logs",
    "stats": "stats_cmd:run_stats",
    "jobs": "jobs_cmd:run_jobs",
    "run": "jobs_cmd:run_run",
    "outputs": "jobs_cmd:run_outputs",
    "free": "jobs_cmd:run_free",
    "watch": "watch_cmd:run_watch",
    "up": "up_cmd:run_up",
    "autostart": "up_cmd:run_autostart",
    "models scan": "scan_cmd:run_scan",
    "models list": "models_cmd:run_list",
    "models import": "models_cmd:run_import",
    "models hash": "models_cmd:run_hash",
    "models dedupe": "models_cmd:run_dedupe",
    "models rm": "models_cmd:run_rm",
    "models download": "downloads_cmd:run_models_download",
    "models needs": "needs_cmd:run_models_needs",
    "models info": "models_cmd:run_info",
    "nodes list": "nodes_cmd:run_nodes_list",
    "nodes add": "nodes_cmd:run_nodes_add",
    "nodes update": "nodes_cmd:run_nodes_update",
    "nodes enable": "nodes_cmd:run_nodes_enable",
    "nodes disable": "nodes_cmd:run_nodes_disable",
    "nodes rm": "nodes_cmd:run_nodes_rm",
    "nodes adopt": "adopt_cmd:run_nodes_adopt",
    "audit": "audit_cmd:run_audit",
    "snapshot list": "envsnap_cmd:run_snapshot_list",
    "snapshot create": "envsnap_cmd:run_snapshot_create",
    "snapshot restore": "envsnap_cmd:run_snapshot_restore",
    "trash list": "trash_cmd:run_trash_list",
    "trash restore": "trash_cmd:run_trash_restore",
    "trash empty": "trash_cmd:run_trash_empty",
    "fleet": "fleet_cmd:run_fleet",
}
"""Command name -> "module:function" under comfy_tui.cli."""


def handler_for(command: str) -> Handler:
    """The function of `command` (a leaf of the parser); every leaf has one (a test checks)."""
    module_name, function = HANDLERS[command].split(":")
    module = importlib.import_module(f"comfy_tui.cli.{module_name}")
    return cast(Handler, getattr(module, function))

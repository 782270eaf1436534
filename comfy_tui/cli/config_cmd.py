"""`comfy-tui config`: the effective settings, tokens masked, and the network the HTTP clients
use (proxies and CA bundle from the environment, proxy credentials masked)."""

from __future__ import annotations

import argparse

from comfy_tui.cli.context import Context
from comfy_tui.cli.output import out, out_json
from comfy_tui.services.config_report import config_document, config_lines


def run_config(ctx: Context, args: argparse.Namespace) -> int:
    if ctx.json:
        out_json(config_document(ctx.settings))
        return 0
    for line in config_lines(ctx.settings, ctx.paths):
        out(line)
    return 0

"""`comfy-tui config`: the effective settings, tokens masked."""

from __future__ import annotations

import argparse
import json

from comfy_tui.cli.context import Context
from comfy_tui.cli.output import out, out_json


def run_config(ctx: Context, args: argparse.Namespace) -> int:
    public = ctx.settings.to_public_dict()
    if ctx.json:
        out_json(public)
        return 0
    out(f"# settings file: {ctx.paths.settings_file}")
    for key, value in public.items():
        out(f"{key} = {json.dumps(value)}")
    return 0

"""`comfy-tui up` and `comfy-tui autostart enable|disable|status`: back after a reboot."""

from __future__ import annotations

import argparse
import asyncio
import os

from comfy_tui.cli.context import Context
from comfy_tui.cli.output import err, out, out_json
from comfy_tui.services import autostart
from comfy_tui.services.instances.up import bring_up


async def _up(ctx: Context) -> int:
    results = await bring_up(ctx.services.instances)
    failed = [r for r in results if not r.ok]
    if ctx.json:
        out_json([r.to_json() for r in results])
    elif not results:
        out("every instance you want up is running (nothing to start)")
    else:
        for r in results:
            gpu = "-" if r.gpu is None else str(r.gpu)
            word = "up" if r.ok else "FAILED"
            out(f"{r.id}  {r.version}  port {r.port}  GPU {gpu}  {word}: {r.detail}")
    if failed:
        err(f"{len(failed)} of {len(results)} did not come up: {', '.join(r.id for r in failed)}")
        return 1
    return 0


def run_up(ctx: Context, args: argparse.Namespace) -> int:
    return asyncio.run(_up(ctx))


def run_autostart(ctx: Context, args: argparse.Namespace) -> int:
    env = dict(os.environ)
    if args.action == "enable":
        unit, lines = autostart.enable(env, ctx.paths.root.resolve())
        if ctx.json:
            out_json({"unit": str(unit) if unit else None, "systemd": unit is not None,
                      "lines": lines})  # fmt: skip
        else:
            for line in lines:
                out(line)
        return 0
    if args.action == "disable":
        lines = autostart.disable(env)
        if ctx.json:
            out_json({"lines": lines})
        else:
            for line in lines:
                out(line)
        return 0
    state = autostart.status(env)
    if ctx.json:
        out_json(state.to_json())
    else:
        out(autostart.status_line(state))
    return 0

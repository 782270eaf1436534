"""`comfy-tui fleet`: every configured host's state (GPUs, instances, disk free), asked over SSH
at once; a down or slow host is a row saying so, never a delay for the others.

`comfy-tui fleet install TAG` / `fleet stop` run on every chosen host at once (`--host`,
`--tag`) and report each host on its own line; exit 1 when any host failed."""

from __future__ import annotations

import argparse
import asyncio

from comfy_tui.cli.context import Context
from comfy_tui.cli.output import err, out, out_json
from comfy_tui.core.safe_text import escape_text
from comfy_tui.errors import ValidationError
from comfy_tui.services.fleet.service import HostResult
from comfy_tui.services.fleet.state import HostState

HEADERS = ("HOST", "STATE", "GPUS", "DISK FREE", "INSTANCES")


def _row(state: HostState) -> list[str]:
    return [
        state.name,
        state.state,
        state.gpus_text(),
        state.disk_text(),
        escape_text(state.instances_text()),
    ]


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


async def _states(ctx: Context, args: argparse.Namespace) -> list[HostState]:
    fleet = ctx.services.fleet
    try:
        return await fleet.statuses(fleet.select(args.host or (), args.tag or ()))
    finally:
        await fleet.aclose()


async def _each(ctx: Context, args: argparse.Namespace) -> list[HostResult]:
    fleet = ctx.services.fleet
    hosts = fleet.select(args.host or (), args.tag or ())
    tag = args.tag_arg
    try:
        if args.action == "install":
            return await fleet.each(hosts, lambda name: fleet.install(name, tag))
        return await fleet.each(hosts, lambda name: fleet.stop(name))
    finally:
        await fleet.aclose()


def _run_action(ctx: Context, args: argparse.Namespace) -> int:
    if args.action == "install" and not args.tag_arg:
        raise ValidationError("fleet install needs the version: comfy-tui fleet install TAG")
    if args.action == "stop" and args.tag_arg:
        raise ValidationError(
            "fleet stop stops every instance of the chosen hosts; choose them with --host/--tag"
        )
    results = asyncio.run(_each(ctx, args))
    if ctx.json:
        out_json({"action": args.action, "results": [r.to_json() for r in results]})
    else:
        for result in results:
            word = "ok" if result.ok else "FAILED"
            out(f"{result.host}: {word}: {escape_text(result.detail)}")
    return 0 if all(r.ok for r in results) else 1


def run_fleet(ctx: Context, args: argparse.Namespace) -> int:
    if not ctx.settings.hosts:
        raise ValidationError(
            f"no hosts configured: add [[hosts]] tables to {ctx.paths.settings_file} "
            "(see docs/fleet.md)"
        )
    if args.action:
        return _run_action(ctx, args)
    states = asyncio.run(_states(ctx, args))
    if ctx.json:
        out_json({"hosts": [s.to_json() for s in states]})
        return 0
    for line in _table([list(HEADERS), *(_row(s) for s in states)]):
        out(line)
    here = _local_version()
    for state in states:
        if state.reachable and state.version and state.version != here:
            err(f"comfy-tui: {state.name} runs comfy-tui {state.version} (here: {here})")
    return 0


def _local_version() -> str:
    from comfy_tui import __version__

    return __version__

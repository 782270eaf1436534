"""`comfy-tui watch`: the notifier without the TUI, for people who do not keep it open.

Each notice is a line on stdout (`--json`: one JSON object per line); the bell and the
desktop notification go to the terminal when stdout is one; the webhook and the command
work as in the TUI. `--count N` stops after N notices (scripts, tests).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from comfy_tui.cli.context import Context
from comfy_tui.cli.output import err, out, out_json_line, stdout_closed
from comfy_tui.core.timefmt import format_clock
from comfy_tui.errors import ValidationError
from comfy_tui.services.notify.notice import Notice


def _write_terminal(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


async def _watch(ctx: Context, args: argparse.Namespace) -> int:
    tty = sys.stdout.isatty()
    notifier = ctx.services.notifier
    notifier.terminal = _write_terminal if tty and not ctx.json else None
    done = asyncio.Event()
    shown = 0

    def show(notice: Notice) -> None:
        nonlocal shown
        if ctx.json:
            out_json_line(notice.to_json())
        else:
            out(f"{format_clock(notice.at)}  {notice.title}: {notice.body}")
        shown += 1
        if (args.count is not None and shown >= args.count) or stdout_closed():
            done.set()

    notifier.subscribe(show)
    err("watching instances, jobs, downloads and installs (Ctrl-C to stop)")
    task = asyncio.create_task(notifier.run())
    try:
        await done.wait()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await notifier.drain()
    return 0


def run_watch(ctx: Context, args: argparse.Namespace) -> int:
    if args.count is not None and args.count < 1:
        raise ValidationError(f"invalid count {args.count}: use 1 or more")
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(_watch(ctx, args))
    return 130

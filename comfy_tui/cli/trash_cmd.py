"""`comfy-tui trash list|restore ID|empty [--yes]`: what remove put aside instead of deleting.

Models (`models rm`), a removed version's user/, output/ and input/ folders, and a removed
node's checkout. `empty` asks on a terminal; a script adds `--yes`.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from comfy_tui.cli.confirm import confirmed
from comfy_tui.cli.context import Context
from comfy_tui.cli.output import err, out, out_json
from comfy_tui.core.units import format_age, format_bytes, plural
from comfy_tui.services.trash_service import TrashItem

__all__ = ["run_trash_empty", "run_trash_list", "run_trash_restore"]


def _row(item: TrashItem, now: float) -> tuple[str, ...]:
    return (
        item.id,
        item.kind,
        item.name,
        format_bytes(item.size),
        format_age(now - item.removed_at),
        item.detail,
    )


def run_trash_list(ctx: Context, args: argparse.Namespace) -> int:
    items = asyncio.run(ctx.services.trash.items())
    if ctx.json:
        out_json({"items": [i.to_json() for i in items]})
        return 0
    if not items:
        err("the trash is empty")
        return 0
    now = time.time()
    header = ("ID", "KIND", "NAME", "SIZE", "REMOVED", "HOLDS")
    rows = [_row(i, now) for i in items]
    widths = [max(len(r[n]) for r in [header, *rows]) for n in range(len(header))]
    for row in [header, *rows]:
        out("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    out(f"{plural(len(items), 'entry', 'entries')}, {format_bytes(sum(i.size for i in items))}")
    return 0


def run_trash_restore(ctx: Context, args: argparse.Namespace) -> int:
    line = asyncio.run(ctx.services.trash.restore(args.id))
    if ctx.json:
        out_json({"id": args.id, "restored": line})
    else:
        out(line)
    return 0


def run_trash_empty(ctx: Context, args: argparse.Namespace) -> int:
    trash = ctx.services.trash
    items = asyncio.run(trash.items())
    if items:
        size = format_bytes(sum(i.size for i in items))
        question = f"delete {plural(len(items), 'entry', 'entries')} ({size}) for good?"
        needs = "emptying the trash deletes for good: run it on a terminal or add --yes"
        if not confirmed(question, yes=args.yes, needs=needs):
            err("nothing deleted")
            return 1
        items = asyncio.run(trash.empty())
    if ctx.json:
        out_json({"deleted": [i.to_json() for i in items]})
    else:
        out(f"deleted {plural(len(items), 'entry', 'entries')} from the trash")
    return 0

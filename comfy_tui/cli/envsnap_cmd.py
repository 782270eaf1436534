"""`comfy-tui snapshot list|create|restore TAG [ID]`: environment snapshots of a version.

`restore` shows what would change (packages and nodes) and asks on a terminal; a script adds
`--yes`. Without an ID it restores the newest snapshot, which undoes the last node or
dependency change. A failed restore puts the previous state back and says so (exit 1).
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime

from comfy_tui.cli.confirm import confirmed
from comfy_tui.cli.context import Context
from comfy_tui.cli.output import err, out, out_json, run_cli_job
from comfy_tui.runner import JobKey, JobKind
from comfy_tui.services.nodes import NodesService
from comfy_tui.store.envsnap_records import Snapshot

__all__ = ["run_snapshot_create", "run_snapshot_list", "run_snapshot_restore"]


def _service(ctx: Context) -> NodesService:
    return ctx.services.nodes


def when(snapshot: Snapshot) -> str:
    return datetime.fromtimestamp(snapshot.created_at, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def run_snapshot_list(ctx: Context, args: argparse.Namespace) -> int:
    snapshots = asyncio.run(_service(ctx).snapshots.list(args.tag))
    if ctx.json:
        out_json({"tag": args.tag, "snapshots": [s.to_json() for s in snapshots]})
        return 0
    if not snapshots:
        err(f"{args.tag} has no snapshots (comfy-tui snapshot create {args.tag} takes one)")
        return 0
    header = ("ID", "TAKEN", "PACKAGES", "NODES", "REASON")
    rows = [(s.id, when(s), str(len(s.packages)), str(len(s.nodes)), s.reason) for s in snapshots]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        out("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return 0


def run_snapshot_create(ctx: Context, args: argparse.Namespace) -> int:
    snapshot = asyncio.run(_service(ctx).snapshots.create(args.tag))
    if ctx.json:
        out_json(snapshot.to_json())
    else:
        out(
            f"snapshot {snapshot.id} of {snapshot.tag}: {len(snapshot.packages)} packages, "
            f"{len(snapshot.nodes)} nodes"
        )
    return 0


def run_snapshot_restore(ctx: Context, args: argparse.Namespace) -> int:
    service = _service(ctx)
    service.restore(args.tag, args.id)  # a bad tag or id fails here (exit 2); not started
    asyncio.run(service.check_restore(args.tag))  # a live instance is named before any question
    preview = asyncio.run(service.snapshots.preview(args.tag, args.id))
    target = preview.snapshot
    err(f"snapshot {target.id} of {target.tag} ({when(target)}, {target.reason}):")
    for change in preview.packages:
        err(f"  {change.describe()}")
    for line in preview.nodes:
        err(f"  {line}")
    if not preview.packages and not preview.nodes:
        err("  nothing differs from now")
    question = f"Restore {target.tag} to snapshot {target.id}?"
    needs = f"restoring {target.tag} needs confirmation: run it on a terminal or add --yes"
    if not confirmed(question, yes=args.yes, needs=needs):
        err("nothing changed")
        return 1
    events = service.restore(target.tag, target.id)
    detail = run_cli_job(JobKey(JobKind.ENV_RESTORE, target.tag), f"restore {target.tag}", events)
    if ctx.json:
        out_json(
            {
                "tag": target.tag,
                "restored": target.id,
                "packages": [c.describe() for c in preview.packages],
                "nodes": list(preview.nodes),
                "detail": detail,
            }
        )
    else:
        out(detail)
    return 0

"""`comfy-tui update NAME [--to REF] | upgrade FROM TO [--switch] | rollback NAME`.

Progress and the live git/uv/smoke output go to stderr; the result to stdout (one JSON
document with `--json`). Failures raise ComfyTuiError subclasses (one line, exit 1; invalid
input exit 2).
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from comfy_tui.cli.confirm import ask, terminal
from comfy_tui.cli.context import Context
from comfy_tui.cli.output import err, out, out_json, run_cli_job
from comfy_tui.runner import JobKey, JobKind
from comfy_tui.validate import validate_tag

__all__ = ["run_rollback", "run_update", "run_upgrade"]


def _record(ctx: Context, name: str) -> dict[str, Any]:
    record = asyncio.run(ctx.services.versions.get(name))
    return record.to_json() if record else {}


def run_update(ctx: Context, args: argparse.Namespace) -> int:
    life = ctx.services.lifecycle
    name = validate_tag(args.name)
    before = _record(ctx, name)
    events = life.update(name, args.to)  # bad input fails here, exit 2
    detail = run_cli_job(JobKey(JobKind.UPDATE, name), f"update {name}", events)
    after = _record(ctx, name)
    changed = after.get("commit") != before.get("commit")
    if ctx.json:
        out_json({**after, "previous_commit": before.get("commit", ""), "changed": changed})
    else:
        out(detail)
    return 0


def run_rollback(ctx: Context, args: argparse.Namespace) -> int:
    life = ctx.services.lifecycle
    name = validate_tag(args.name)
    change = asyncio.run(life.last_change(name))
    events: Any = life.rollback(name)
    detail = run_cli_job(JobKey(JobKind.ROLLBACK, name), f"roll back {name}", events)
    if ctx.json:
        document: dict[str, Any] = {"name": name, "undone": change.kind if change else ""}
        if change is not None and change.kind == "update":
            document["commit"] = _record(ctx, name).get("commit", "")
        elif change is not None:
            document["instances"] = list(change.instances)
            document["default"] = asyncio.run(ctx.services.versions.get_default())
        out_json(document)
    else:
        out(detail)
    return 0


def run_upgrade(ctx: Context, args: argparse.Namespace) -> int:
    life = ctx.services.lifecycle
    upgrade = life.upgrade(args.source, args.target)  # bad input fails here, exit 2
    key = JobKey(JobKind.UPGRADE, upgrade.target)
    run_cli_job(key, f"prepare {upgrade.target}", upgrade.prepare())
    plans = asyncio.run(
        upgrade.plans(allow_direct_refs=args.allow_direct_refs, allow_builds=args.build_from_source)
    )
    count = 0
    for item in plans:
        err(f"{item.name} in {upgrade.target}:")
        for line in item.plan.summary() if item.plan else [item.error]:
            err(f"  {line}")
        if item.plan is not None and not item.plan.blocked:
            count += len(item.plan.changes)
    agreed = bool(args.yes)
    if count and not agreed:
        if terminal():
            agreed = ask(f"Install these {count} package change(s) into {upgrade.target}?")
        else:
            err(f"{count} package change(s) need your agreement: run it on a terminal or add --yes")
    run_cli_job(key, f"nodes into {upgrade.target}", upgrade.apply(plans, agreed=agreed))
    run_cli_job(key, f"check {upgrade.target}", upgrade.check())
    report = upgrade.report
    document: dict[str, Any] = report.to_json()
    if args.switch:
        switch = life.switch(upgrade)  # refused unless every node loaded
        detail = run_cli_job(JobKey(JobKind.SWITCH, upgrade.source), "switch", switch)
        change = asyncio.run(life.last_change(report.source))
        document["switched"] = list(change.instances) if change else []
        document["default"] = asyncio.run(ctx.services.versions.get_default())
    if ctx.json:
        out_json(document)
        return 0
    made = " (installed now)" if report.installed_target else ""
    out(f"{report.source} -> {report.target}{made}: {report.checked}")
    for node in report.nodes:
        error = f": {node.error}" if node.error and not node.ok else ""
        out(f"  {node.name}  {node.commit[:7] or '?'}  {node.status}{error}")
    if not report.nodes:
        out(f"  {report.source} enables no shared custom nodes")
    if report.own_nodes:
        out(f"  {report.source}'s own nodes are not carried: {', '.join(report.own_nodes)}")
    if args.switch:
        out(detail)
    elif report.ok:
        out(f"every node loads: comfy-tui upgrade {report.source} {report.target} --switch")
    return 0

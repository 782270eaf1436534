"""`comfy-tui nodes list|add URL|update NAME|enable NAME TAG|disable NAME TAG|rm NAME`.

`enable` (and `update`, for every version that enables the node) first shows what would
change in the version's venv (a uv dry run that builds nothing) and asks on a terminal; a
script adds `--yes`. A change to the torch family is refused unless `--force`. Requirement
lines that are refused (direct references, ``-e``, index options) need `--allow-direct-refs`;
packages that must be built from source (their setup code runs) need `--build-from-source`
(or a yes on a terminal). A node's install.py runs only with `--run-install-script` (or a yes
on a terminal). Progress goes to stderr, the result to stdout
(one JSON document with `--json`).
"""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime
from typing import Any

from comfy_tui.cli.confirm import ask, confirmed, terminal
from comfy_tui.cli.context import Context
from comfy_tui.cli.output import err, out, out_json, run_cli_job
from comfy_tui.core.node_plan import node_name_from_url
from comfy_tui.errors import ComfyTuiError, InstallError
from comfy_tui.runner import JobKey, JobKind
from comfy_tui.services.nodes import DepsPlan, NodeInfo, NodesService
from comfy_tui.validate import validate_tag

__all__ = [
    "apply_plan",
    "make_plan",
    "run_nodes_add",
    "run_nodes_disable",
    "run_nodes_enable",
    "run_nodes_list",
    "run_nodes_rm",
    "run_nodes_update",
]


def _service(ctx: Context) -> NodesService:
    return ctx.services.nodes


def node_json(info: NodeInfo) -> dict[str, Any]:
    return {
        "name": info.name,
        "url": info.url,
        "commit": info.commit,
        "branch": info.branch or None,
        "pinned": info.pinned,
        "enabled_in": list(info.enabled_in),
        "requirements": info.requirements,
        "install_script": info.install_script,
        "added_at": info.added_at,
    }


def plan_json(plan: DepsPlan) -> dict[str, Any]:
    def change(c: Any) -> dict[str, str]:
        return {"name": c.name, "old": c.old or None, "new": c.new or None}

    return {
        "node": plan.name,
        "tag": plan.tag,
        "commit": plan.commit,
        "changes": [change(c) for c in plan.changes],
        "torch_changes": [change(c) for c in plan.torch_changes],
        "blocked": plan.blocked,
        "install_script": plan.install_script,
        "source_builds": list(plan.source_builds),
        "builds_allowed": plan.builds_allowed,
        "allowed_lines": [
            {"file": r.source, "line": r.number, "text": r.text, "reason": r.reason}
            for r in plan.allowed_lines
        ],
    }


def make_plan(service: NodesService, name: str, tag: str, args: argparse.Namespace) -> DepsPlan:
    """The plan for `name` in `tag` with the flags given; source builds the flags did not
    allow are asked about on a terminal (the plan is then made again, building them)."""
    allow = {"force": args.force, "allow_direct_refs": args.allow_direct_refs}
    plan = asyncio.run(service.plan(name, tag, allow_builds=args.build_from_source, **allow))
    if not plan.builds_blocked:
        return plan
    err(f"{plan.name} in {plan.tag}:")
    for line in plan.build_lines():
        err(f"  {line}")
    if not terminal() or not ask("Build them? Their setup code runs with your rights."):
        raise InstallError(f"{plan.refusal()}; add --build-from-source to build them")
    return asyncio.run(service.plan(name, tag, allow_builds=True, **allow))


def run_nodes_list(ctx: Context, args: argparse.Namespace) -> int:
    overview = asyncio.run(_service(ctx).overview())
    if ctx.json:
        own = [{"tag": o.tag, "name": o.name, "kind": o.kind, "enabled": o.enabled}
               for o in overview.own]  # fmt: skip
        nodes = [node_json(n) for n in overview.nodes]
        out_json({"nodes": nodes, "own": own, "versions": list(overview.versions)})
        return 0
    if not overview.nodes:
        err("no shared nodes yet (comfy-tui nodes add URL adds one)")
    else:
        header = ("NAME", "COMMIT", "ON", "ENABLED IN", "ADDED")
        rows = [
            (
                n.name,
                n.commit[:12] or "?",
                n.branch or "pinned",
                ", ".join(n.enabled_in) or "—",
                datetime.fromtimestamp(n.added_at, tz=UTC).strftime("%Y-%m-%d"),
            )
            for n in overview.nodes
        ]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            out("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    if overview.own:
        out("")
        out("nodes versions have on their own (comfy-tui leaves them alone):")
        for o in overview.own:
            state = "" if o.enabled else " (disabled)"
            out(f"  {o.tag}: {o.name} [{o.kind}]{state}")
    return 0


def run_nodes_add(ctx: Context, args: argparse.Namespace) -> int:
    service = _service(ctx)
    name = node_name_from_url(args.url)  # a bad URL fails here, exit 2
    detail = run_cli_job(
        JobKey(JobKind.NODE_ADD, args.url), f"add {args.url}", service.add(args.url)
    )
    if ctx.json:
        out_json(node_json(asyncio.run(service.get(name))))
    else:
        out(detail)
        err(f"enable it in a version with: comfy-tui nodes enable {name} TAG")
    return 0


def apply_plan(service: NodesService, plan: DepsPlan, args: argparse.Namespace) -> dict[str, Any]:
    """Show a plan, ask, and enable; the JSON result (with "applied": False when declined)."""
    result = plan_json(plan)
    result["applied"] = False
    err(f"{plan.name} in {plan.tag}:")
    for line in plan.summary():
        err(f"  {line}")
    if plan.blocked:
        raise InstallError(f"{plan.refusal()}; add --force to allow it")
    if plan.changes:
        count = len(plan.changes)
        if not confirmed(
            f"Apply these {count} package change(s) to {plan.tag}?",
            yes=args.yes,
            needs=f"enabling {plan.name} in {plan.tag} changes {count} package(s): run it on a "
            "terminal or add --yes",
        ):
            err(f"nothing changed in {plan.tag}")
            return result
    run_script = bool(args.run_install_script)
    if plan.install_script and not run_script and terminal():
        run_script = ask(f"{plan.name} has an install.py, which runs its authors' code. Run it?")
    events = service.enable(plan, run_install_script=run_script)
    detail = run_cli_job(JobKey(JobKind.NODE_ENABLE, plan.name, version=plan.tag), "enable", events)
    result.update(applied=True, install_script_ran=plan.install_script and run_script)
    result["detail"] = detail
    return result


def run_nodes_enable(ctx: Context, args: argparse.Namespace) -> int:
    service = _service(ctx)
    doing = f"enable {args.name} in {args.tag}"
    asyncio.run(service.check_change(args.name, validate_tag(args.tag), doing))
    plan = make_plan(service, args.name, args.tag, args)
    result = apply_plan(service, plan, args)
    if ctx.json:
        out_json(result)
    elif result["applied"]:
        out(result["detail"])
    return 0 if result["applied"] else 1


def run_nodes_update(ctx: Context, args: argparse.Namespace) -> int:
    service = _service(ctx)
    asyncio.run(service.check_update(args.name))
    events = service.update(args.name, args.commit)
    detail = run_cli_job(JobKey(JobKind.NODE_UPDATE, args.name), f"update {args.name}", events)
    if not ctx.json:
        out(detail)
    applied: dict[str, Any] = {}
    for tag in asyncio.run(service.enabled_in(args.name)):
        try:
            plan = make_plan(service, args.name, tag, args)
            script = plan.install_script and args.run_install_script
            if not plan.changes and not plan.torch_changes and not script:
                applied[tag] = {**plan_json(plan), "applied": False}
                if not ctx.json:
                    out(f"{tag}: its requirements are already installed")
                continue
            applied[tag] = apply_plan(service, plan, args)
        except ComfyTuiError as exc:
            raise type(exc)(
                f"{exc}; {args.name} itself was updated: comfy-tui snapshot restore {tag} "
                f"puts {tag} back as it was"
            ) from exc
        if not ctx.json and applied[tag]["applied"]:
            out(applied[tag]["detail"])
    if ctx.json:
        out_json({"node": node_json(asyncio.run(service.get(args.name))), "versions": applied})
    return 0


def run_nodes_disable(ctx: Context, args: argparse.Namespace) -> int:
    service = _service(ctx)
    doing = f"disable {args.name} in {args.tag}"
    asyncio.run(service.check_change(args.name, validate_tag(args.tag), doing))
    before = asyncio.run(service.disable(args.name, args.tag))
    if ctx.json:
        out_json({"node": args.name, "tag": args.tag, "snapshot": before.id})
    else:
        out(
            f"disabled {args.name} in {args.tag}; its packages stay installed (snapshot "
            f"{before.id} holds the state before: comfy-tui snapshot restore {args.tag} "
            f"{before.id})"
        )
    return 0


def run_nodes_rm(ctx: Context, args: argparse.Namespace) -> int:
    service = _service(ctx)
    asyncio.run(service.check_remove(args.name))  # a live instance is named before any question
    info = asyncio.run(service.get(args.name))
    users = f" and disable it in {', '.join(info.enabled_in)}" if info.enabled_in else ""
    if not confirmed(
        f"Delete the shared node {info.name}{users}?",
        yes=args.yes,
        needs=f"removing {info.name} needs confirmation: run it on a terminal or add --yes",
    ):
        err("nothing removed")
        return 1
    disabled = asyncio.run(service.remove(info.name))
    if ctx.json:
        out_json({"node": info.name, "disabled_in": disabled})
    else:
        out(f"removed {info.name}" + (f" (disabled in {', '.join(disabled)})" if disabled else ""))
    return 0

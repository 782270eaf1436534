"""`comfy-tui adopt PATH [--name NAME] [--venv PATH]` and `comfy-tui nodes adopt NAME TAG`.

`adopt` makes an existing ComfyUI folder a version (left in place; `remove` only forgets it)
and lists its own custom nodes with origin and commit; `nodes adopt` makes one of them a
shared node. A bad path is one line on stderr (exit 2) and changes nothing.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from comfy_tui.cli.context import Context
from comfy_tui.cli.output import out, out_json, run_cli_job
from comfy_tui.runner import JobKey, JobKind
from comfy_tui.services.adopt_nodes import OwnNodeInfo, list_own_nodes, share_node
from comfy_tui.store.version_records import VersionRecord

__all__ = ["run_adopt", "run_nodes_adopt"]


def _node_lines(tag: str, nodes: list[OwnNodeInfo]) -> list[str]:
    if not nodes:
        return ["custom_nodes/: no nodes of its own"]
    lines = [f"custom_nodes/ ({len(nodes)}):"]
    for node in nodes:
        state = "" if node.enabled else " (disabled)"
        where = (
            f"{node.origin or 'no origin'} @ {node.commit[:12]}"
            if node.kind == "git"
            else (node.kind)
        )
        lines.append(f"  {node.name}{state}  {where}")
    offer = [n for n in nodes if n.kind == "git" and n.origin and not n.shared]
    for node in offer:
        lines.append(f"  share it: comfy-tui nodes adopt {node.name} {tag}")
    return lines


def run_adopt(ctx: Context, args: argparse.Namespace) -> int:
    services = ctx.services
    venv = Path(args.venv) if args.venv else None

    async def go() -> tuple[VersionRecord, list[OwnNodeInfo]]:
        record = await services.versions.adopt(Path(args.path), name=args.name, venv=venv)
        return record, await list_own_nodes(services.paths, record.tag)

    record, nodes = asyncio.run(go())
    if ctx.json:
        out_json({**record.to_json(), "custom_nodes": [n.to_json() for n in nodes]})
        return 0
    out(f"adopted {record.tag} (ComfyUI {record.comfyui_version or '?'}) at {record.path}")
    out(
        f"python {record.python} ({record.python_version}), torch {record.torch_version or '—'}"
        f", commit {record.commit[:12] or '—'}; left in place: remove only forgets it"
    )
    for line in _node_lines(record.tag, nodes):
        out(line)
    return 0


def run_nodes_adopt(ctx: Context, args: argparse.Namespace) -> int:
    services = ctx.services
    events = share_node(services.nodes.snapshots, args.tag, args.name)
    detail = run_cli_job(JobKey(JobKind.NODE_SHARE, args.name), f"share {args.name}", events)
    if ctx.json:
        out_json({"shared": args.name, "from": args.tag, "detail": detail})
    else:
        out(detail)
    return 0

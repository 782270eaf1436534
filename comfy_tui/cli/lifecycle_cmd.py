"""`comfy-tui update NAME [--to REF] | upgrade FROM TO [--switch] | rollback NAME`.

Progress and the live git/uv/smoke output go to stderr; the result to stdout (one JSON
document with `--json`). Failures raise ComfyTuiError subclasses (one line, exit 1; invalid
input exit 2).
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from comfy_tui.cli.context import Context
from comfy_tui.cli.output import ProgressPrinter, out, out_json
from comfy_tui.errors import FeatureUnavailableError
from comfy_tui.events import Finished
from comfy_tui.validate import validate_tag

__all__ = ["run_rollback", "run_update", "run_upgrade"]


async def _drain(events: Any) -> str:
    """Print a job's events; the Finished detail."""
    printer = ProgressPrinter()
    detail = ""
    async for event in events:
        printer(event)
        if isinstance(event, Finished):
            detail = event.detail
    return detail


def _record(ctx: Context, name: str) -> dict[str, Any]:
    record = asyncio.run(ctx.services.versions.get(name))
    return record.to_json() if record else {}


def run_update(ctx: Context, args: argparse.Namespace) -> int:
    life = ctx.services.lifecycle
    name = validate_tag(args.name)
    before = _record(ctx, name)
    events = life.update(name, args.to)  # bad input fails here, exit 2
    detail = asyncio.run(_drain(events))
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
    detail = asyncio.run(_drain(events))
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
    raise FeatureUnavailableError("'comfy-tui upgrade' is not built yet in this version")

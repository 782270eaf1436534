"""`comfy-tui models needs FILE [--download] [--install TAG]`: what a workflow needs.

FILE is an API- or UI-format workflow JSON, or a PNG/WebP/FLAC ComfyUI saved it into. Each
model is printed as present (with its library path), missing with a URL (``--download`` fetches
it into its folder), or missing without a known source; each node class the version lacks
(asked from a running instance's ``/object_info``, else read from the checkouts) with the
repository that provides it. ``--install TAG`` does both: the models are downloaded, and the
node repositories are added and enabled in TAG with the consent of ``nodes enable``
(`needs_nodes`).
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from comfy_tui.cli.context import Context
from comfy_tui.cli.needs_nodes import NodeInstalls, install_nodes
from comfy_tui.cli.output import drive_job, err, out, out_json
from comfy_tui.core.units import plural
from comfy_tui.core.url_secrets import redact_url
from comfy_tui.errors import ComfyTuiError, ValidationError
from comfy_tui.runner import JobKey, JobKind
from comfy_tui.services.downloads import DownloadQueue
from comfy_tui.services.library.needs import Need, download_request, workflow_needs
from comfy_tui.services.workflow_nodes import NodesCheck, nodes_needed

_LABEL = {"present": "present", "download": "missing (URL known)", "missing": "missing (no source)"}


async def _fetch(queue: DownloadQueue, needs: list[Need]) -> list[str]:
    """Download every missing model with a URL into its folder; the failures, one line each."""
    failures: list[str] = []
    for need in needs:
        request = download_request(need)
        if request is None:
            continue
        try:
            item = await queue.prepare(request)
            key = JobKey(JobKind.DOWNLOAD, item.id)
            await drive_job(key, item.label, queue.run_now(item.id))
        except ComfyTuiError as exc:
            failures.append(f"{need.shown}: {exc}")
    return failures


def _doc(need: Need) -> dict[str, Any]:
    ref = need.ref
    return {
        "name": ref.name,
        "folder": ref.folder,
        "status": need.status,
        "path": need.where,
        "url": redact_url(ref.url) if ref.url else None,
        "sha256": ref.sha256,
        "node": ref.node,
    }


async def _nodes(ctx: Context, path: Path, tag: str | None) -> NodesCheck | None:
    """The workflow's node classes checked against `tag` (else the default version)."""
    return await nodes_needed(ctx.settings, ctx.paths, path, tag)


def _target(args: argparse.Namespace) -> str | None:
    """The version to check: --install TAG, else --version TAG (both: the same one)."""
    install: str | None = args.install
    if install and args.version and install != args.version:
        raise ValidationError(f"--install {install} and --version {args.version} disagree")
    return install or args.version


def _nodes_doc(check: NodesCheck | None, installs: NodeInstalls | None) -> dict[str, Any] | None:
    if check is None:
        return None
    doc: dict[str, Any] = {
        "version": check.tag,
        "checked_with": f"instance {check.instance}" if check.instance else "checkouts",
        "missing": [vars(n) for n in check.missing],
    }
    if installs is not None:
        doc["installed"] = installs.results
    return doc


def run_models_needs(ctx: Context, args: argparse.Namespace) -> int:
    services = ctx.services
    path = Path(args.file)
    tag = _target(args)
    needs = asyncio.run(workflow_needs(services.library, path))
    check = asyncio.run(_nodes(ctx, path, tag))
    failures: list[str] = []
    if (args.download or args.install) and any(n.status == "download" for n in needs):
        failures = asyncio.run(_fetch(services.downloads, needs))
        needs = asyncio.run(workflow_needs(services.library, path))
    installs = None
    if args.install and check is not None and check.missing:
        installs = install_nodes(services.nodes, check.missing, check.tag, args)
        failures += installs.failures
        check = asyncio.run(_nodes(ctx, path, check.tag))
    if ctx.json:
        out_json(
            {"file": str(path), "models": [_doc(n) for n in needs],
             "nodes": _nodes_doc(check, installs), "failed": failures}
        )  # fmt: skip
    else:
        _print(needs)
        _print_nodes(check, installs)
        for line in failures:
            err(f"comfy-tui: {line}")
    return 1 if failures else 0


def _print(needs: list[Need]) -> None:
    if not needs:
        out("this workflow names no model files")
        return
    width = min(max(len(n.shown) for n in needs), 60)
    for n in needs:
        if n.status == "present":
            detail = n.where or ""
        elif n.status == "download":
            detail = redact_url(n.ref.url or "")
        else:
            detail = f"(node {n.ref.node})"
        out(f"{_LABEL[n.status]:<20} {n.shown:<{width}}  {detail}")
    counts = {s: sum(1 for n in needs if n.status == s) for s in _LABEL}
    out(
        f"{plural(len(needs), 'model')}: {counts['present']} present,"
        f" {counts['download']} to download, {counts['missing']} without a source"
    )
    if counts["download"]:
        err("run 'comfy-tui models needs FILE --download' to fetch the ones with a URL")


def _print_nodes(check: NodesCheck | None, installs: NodeInstalls | None) -> None:
    if check is None:
        err("no default version: pass --version TAG to check the workflow's nodes")
        return
    for entry in installs.results if installs else ():
        out(f"{'node installed':<20} {entry['node']:<24}  {entry.get('detail', '')}")
    seen = f" (asked instance {check.instance})" if check.instance else ""
    if not check.missing:
        out(f"nodes: every node class is provided by {check.tag}{seen}")
        return
    width = max(len(n.class_type) for n in check.missing)
    for n in check.missing:
        source = f"{n.repo}  (comfy-tui nodes add {n.repo})" if n.repo else "(no repository known)"
        out(f"{'node missing':<20} {n.class_type:<{width}}  {source}")
    count = plural(len(check.missing), "node class", "node classes")
    out(f"nodes: {count} not provided by {check.tag}{seen}")
    if installs is None and any(n.repo for n in check.missing):
        err(f"run 'comfy-tui models needs FILE --install {check.tag}' to add and enable them")

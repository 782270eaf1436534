"""`comfy-tui models download URL|REPO_ID [FILE] [--folder F] [--sha256 H] [--revision R]`.

Progress goes to stderr (every 5 %), the file's path (or one JSON document) to stdout.
Ctrl-C or a kill leaves the partial file: the same command later continues from it. A
REPO_ID without FILE lists the repo's files and exits 2 (say which one).
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from comfy_tui.cli.context import Context
from comfy_tui.cli.output import drive_job, err, out, out_json
from comfy_tui.core.units import format_bytes
from comfy_tui.core.url_secrets import redact_url
from comfy_tui.runner import JobKey, JobKind
from comfy_tui.services.downloads import DownloadItem, DownloadQueue, DownloadRequest
from comfy_tui.services.downloads.hf import list_repo_files
from comfy_tui.services.downloads.resolve import looks_like_url
from comfy_tui.validate import validate_repo_id


def run_models_download(ctx: Context, args: argparse.Namespace) -> int:
    request = DownloadRequest(
        source=args.source,
        file=args.file,
        folder=args.folder,
        sha256=args.sha256,
        revision=args.revision,
    )
    if not looks_like_url(request.source) and request.file is None:
        return asyncio.run(_list(ctx, request))
    queue = ctx.services.downloads
    return asyncio.run(_download(ctx, queue, request))


async def _download(ctx: Context, queue: DownloadQueue, request: DownloadRequest) -> int:
    item = await queue.prepare(request)
    await drive_job(JobKey(JobKind.DOWNLOAD, item.id), item.label, queue.run_now(item.id))
    done = queue.get(item.id)
    if ctx.json:
        out_json(_document(done))
    else:
        out(done.path or "")
    return 0


async def _list(ctx: Context, request: DownloadRequest) -> int:
    repo_id = validate_repo_id(request.source)
    revision = request.revision or "main"
    files = await list_repo_files(ctx.settings, repo_id, revision)
    if ctx.json:
        out_json(
            {
                "repo_id": repo_id,
                "revision": revision,
                "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in files],
            }
        )
    else:
        for f in files:
            size = format_bytes(f.size, unknown="?")
            out(f"{f.path}\t{size}")
    err(f"comfy-tui: say which file to download: comfy-tui models download {repo_id} FILE")
    return 2


def _document(item: DownloadItem) -> dict[str, Any]:
    return {
        "id": item.id,
        "path": item.path,
        "folder": item.folder,
        "filename": item.filename,
        "size": item.bytes_total,
        "sha256": item.sha256,
        "kind": str(item.kind) if item.kind else None,
        "source": redact_url(item.request.source),
        "file": item.request.file,
        "revision": item.request.revision,
        "commit": item.commit,
    }

"""`comfy-tui releases [--refresh] [--all] [--estimate] [--json]`: ComfyUI releases, newest first.

The list comes from `GitHubReleases` (GitHub, its cache, or the mirror's tags); installed and
default versions are marked from the version records. Prereleases are hidden unless `--all`.
Each release the mirror has shows its estimated install size when known (`--estimate` sizes
unknown dependency sets from a uv resolution; services/size_estimate.py).
A warning (GitHub unreachable, rate limit) goes to stderr; with no list at all, exit 1.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Mapping
from typing import Any

from comfy_tui.cli.context import Context
from comfy_tui.cli.output import err, out, out_json
from comfy_tui.core.size_estimate import SizeEstimate, size_text
from comfy_tui.core.timefmt import format_date
from comfy_tui.core.units import format_age
from comfy_tui.errors import NetworkError
from comfy_tui.services.release_list import Release, ReleaseList
from comfy_tui.store.version_records import get_default, list_records

_SOURCE_NAMES = {"github": "GitHub", "cache": "the cache", "mirror": "the local git tags"}


def run_releases(ctx: Context, args: argparse.Namespace) -> int:
    listed = asyncio.run(ctx.services.releases.list(refresh=args.refresh))
    if listed.source == "none":
        raise NetworkError(
            f"no ComfyUI releases known: {listed.error or listed.warning}; "
            "nothing is cached and there is no local mirror yet"
        )
    installed = {r.tag for r in list_records(ctx.paths)}
    default = get_default(ctx.paths)
    shown = listed.visible(include_prereleases=args.all)
    sizes = asyncio.run(
        ctx.services.versions.size_estimates(
            [r.tag for r in shown if r.tag not in installed], resolve=args.estimate
        )
    )
    if ctx.json:
        doc = listed.to_json()
        doc["include_prereleases"] = bool(args.all)
        doc["releases"] = [
            {
                **r.to_json(),
                "installed": r.tag in installed,
                "default": r.tag == default,
                **_estimate_json(sizes.get(r.tag)),
            }
            for r in shown
        ]
        out_json(doc)
    else:
        _print_table(shown, installed, default, sizes)
    if listed.warning:
        err(f"comfy-tui: {listed.warning}")
    err(_summary(listed, len(shown)))
    return 0


def _estimate_json(estimate: SizeEstimate | None) -> dict[str, Any]:
    """`estimated_bytes` (disk), `estimated_download_bytes` and their basis; null if unknown."""
    return {
        "estimated_bytes": estimate.disk_bytes if estimate else None,
        "estimated_download_bytes": estimate.download_bytes if estimate else None,
        "estimate_basis": estimate.basis if estimate else None,
    }


def _print_table(
    shown: tuple[Release, ...],
    installed: set[str],
    default: str | None,
    sizes: Mapping[str, SizeEstimate],
) -> None:
    rows = []
    for release in shown:
        marks = []
        if release.tag in installed:
            marks.append("installed")
        if release.tag == default:
            marks.append("default")
        rows.append(
            (
                release.tag,
                format_date(release.published_at),
                ", ".join(marks),
                "pre" if release.prerelease else "",
                size_text(sizes.get(release.tag)),
            )
        )
    header = ("TAG", "DATE", "INSTALLED", "PRE", "SIZE")  # ~disk / download
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        out("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _summary(listed: ReleaseList, shown: int) -> str:
    hidden = len(listed.releases) - shown
    source = _SOURCE_NAMES.get(listed.source, listed.source)
    age = f", fetched {format_age(listed.age_s)}" if listed.age_s is not None else ""
    more = f"; {hidden} prerelease(s) hidden (--all shows them)" if hidden else ""
    return f"{shown} release(s) from {source}{age}{more}"

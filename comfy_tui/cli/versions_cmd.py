"""`comfy-tui versions | install TAG | remove TAG | default TAG`: installed ComfyUI versions.

`install` prints progress and the live git/uv/pip output on stderr and the final record on
stdout (one JSON document with `--json`). `remove` asks y/N on a terminal; without one it needs
`--yes`. Failures raise ComfyTuiError subclasses (one line, exit 1; invalid input exit 2).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from comfy_tui.aio import run
from comfy_tui.cli.confirm import confirmed
from comfy_tui.cli.context import Context
from comfy_tui.cli.output import drive_job, err, out, out_json
from comfy_tui.core.refs import short
from comfy_tui.core.units import format_bytes, format_duration
from comfy_tui.errors import NotFoundError, ValidationError
from comfy_tui.services.disk_usage import VersionDisk
from comfy_tui.store.version_records import VersionRecord
from comfy_tui.validate import validate_tag

if TYPE_CHECKING:
    from comfy_tui.services.versions import VersionsService

"""The CLI prints a progress line when a step starts or the whole moved this much."""


def _service(ctx: Context) -> VersionsService:
    return ctx.services.versions


def _record_json(record: VersionRecord, default: str | None) -> dict[str, Any]:
    return {**record.to_json(), "default": record.tag == default}


def _when(epoch: float) -> str:
    if not epoch:
        return "—"
    from datetime import UTC, datetime  # the table only, not --json

    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d")


def run_versions(ctx: Context, args: argparse.Namespace) -> int:
    """Records, the default and disk use are read without an event loop; one runs only to
    ask the mirror for newer releases, when something is installed."""
    service = _service(ctx)
    records = service.list_installed()

    async def newer_releases() -> dict[str, list[str]]:
        return {r.tag: await ctx.services.lifecycle.newer_releases(r) for r in records}

    newer = run(newer_releases()) if records else {}
    disk = service.measure_disk(r.tag for r in records)
    default = service.read_default()
    empty = VersionDisk()
    if ctx.json:
        versions = [
            {
                **_record_json(r, default),
                "disk_bytes": disk.versions.get(r.tag, empty).disk_bytes,
                "shared_bytes": disk.versions.get(r.tag, empty).shared_bytes,
                "newer_releases": newer.get(r.tag, []),
            }
            for r in records
        ]
        out_json({"default": default, "total_disk_bytes": disk.total_bytes, "versions": versions})
        return 0
    if not records:
        err("no versions installed (comfy-tui install TAG installs one)")
        return 0
    header = ("", "TAG", "COMMIT", "COMFYUI", "TORCH", "BUILD", "OWN", "SHARED", "INSTALLED")
    rows = [
        (
            "*" if r.tag == default else "",
            r.tag,
            short(r.commit) + (f" ({r.ref})" if r.ref and r.ref != r.tag else ""),
            r.comfyui_version or "?",
            r.torch_version or "—",
            r.installer if r.adopted else f"{r.torch_build or r.torch_backend}/{r.installer}",
            "—" if r.adopted else format_bytes(disk.versions.get(r.tag, empty).disk_bytes),
            "—" if r.adopted else format_bytes(disk.versions.get(r.tag, empty).shared_bytes),
            _when(r.installed_at),
        )
        for r in records
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        out("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    for r in records:
        if newer.get(r.tag):
            shown = ", ".join(newer[r.tag][:3]) + (" …" if len(newer[r.tag]) > 3 else "")
            out(f"{r.tag}: newer releases in the mirror: {shown} (comfy-tui upgrade {r.tag} TAG)")
    for r in records:
        if r.adopted:
            out(f"{r.tag}: adopted, left in place at {r.path} (remove only forgets it)")
    out(
        f"versions/ holds {format_bytes(disk.total_bytes)} in all (OWN: freed by removing that "
        "version; SHARED: hardlinked with other versions or the uv cache)"
    )
    return 0


def run_install(ctx: Context, args: argparse.Namespace) -> int:
    from comfy_tui.runner import JobKey, JobKind

    service = _service(ctx)
    job = ctx.services.lifecycle.install(  # invalid input fails here, exit 2
        args.tag,
        name=getattr(args, "name", None),
        torch=args.torch,
        torch_index=args.torch_index,
        python=args.python,
        force=args.force,
    )

    async def consume() -> VersionRecord | None:
        await drive_job(JobKey(JobKind.INSTALL, args.tag), f"install {args.tag}", job.events())
        return await service.get(job.name or args.tag)  # a ref's name is known once it ran

    record = run(consume())
    if record is None:  # cannot happen: the record is written before Finished
        raise NotFoundError(f"{job.name or args.tag} finished installing but has no record")
    default = run(service.get_default())
    if ctx.json:
        out_json(_record_json(record, default))
    else:
        total = sum(record.step_seconds.values())
        out(f"installed {record.tag} (ComfyUI {record.comfyui_version or '?'}) at {record.path}")
        out(
            f"torch {record.torch_version or '—'} ({record.torch_build or record.torch_backend}), "
            f"Python {record.python_version}, {record.installer}, "
            f"{format_bytes(record.size_bytes)}, {format_duration(total)}"
        )
    return 0


def run_remove(ctx: Context, args: argparse.Namespace) -> int:
    tag = validate_tag(args.tag)
    service = _service(ctx)
    run(service.check_remove(tag))  # a live instance is named before any question
    record = run(service.get(tag))
    size = f" ({format_bytes(record.size_bytes)})" if record else ""
    question = f"Remove ComfyUI {tag}{size} and its environment?"
    if record is not None and record.adopted:
        question = f"Forget the adopted {tag}? Its folder {record.path} stays as it is."
    needs = f"removing {tag} needs confirmation: run it on a terminal or add --yes"
    if not confirmed(question, yes=args.yes, needs=needs):
        err("nothing removed")
        return 1
    run(service.remove(tag))
    kept = record.path if record is not None and record.adopted else None
    if ctx.json:
        out_json({"removed": tag, "kept": kept})
    else:
        out(f"forgot {tag} ({kept} is left as it was)" if kept else f"removed {tag}")
    return 0


def run_default(ctx: Context, args: argparse.Namespace) -> int:
    service = _service(ctx)
    if getattr(args, "clear", False):
        if args.tag:
            raise ValidationError("give either a TAG or --clear, not both")
        service.write_default(None)
        if ctx.json:
            out_json({"default": None})
        else:
            out("no default version")
        return 0
    if not args.tag:
        raise ValidationError("give the TAG to make the default (or --clear)")
    service.write_default(args.tag)
    if ctx.json:
        out_json({"default": validate_tag(args.tag)})
    else:
        out(f"default version: {validate_tag(args.tag)}")
    return 0

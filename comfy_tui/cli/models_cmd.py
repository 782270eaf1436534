"""`comfy-tui models list|info|import|hash|dedupe|rm`: the model library from the command line
(`models scan` is scan_cmd.py)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

from comfy_tui.cli.context import Context
from comfy_tui.cli.output import drive_job, err, out, out_json, run_cli_job
from comfy_tui.core.units import format_bytes, format_count, plural
from comfy_tui.runner import JobKey, JobKind
from comfy_tui.services.library.folder_types import validate_folder
from comfy_tui.store.models_index import ModelRecord

if TYPE_CHECKING:  # types only: a scan imports no dedupe, import or CivitAI module
    from comfy_tui.services.library.dedupe import DuplicateReport
    from comfy_tui.services.library.importer import ImportMode, ImportOutcome
    from comfy_tui.services.library.service import LibraryService
    from comfy_tui.store.civitai_index import CivitaiInfo


def _library(ctx: Context) -> LibraryService:
    return ctx.services.library


def model_json(m: ModelRecord) -> dict[str, Any]:
    return {
        "id": m.id,
        "path": str(m.path),
        "root": m.root,
        "relpath": m.relpath,
        "folder": m.folder,
        "name": m.name,
        "size": m.size,
        "sha256": m.sha256,
        "format": m.format,
        "status": m.status,
        "problem": m.problem,
        "kind": m.kind,
        "architecture": m.architecture,
        "parameters": m.parameters,
        "tensors": m.tensors,
        "dtypes": list(m.dtypes),
        "metadata": m.metadata,
        "added_at": m.added_at,
        "source_url": m.source_url,
        "source_repo": m.source_repo,
        "source_revision": m.source_revision,
        "source_commit": m.source_commit,
    }


# --- list ------------------------------------------------------------------------------------
def _label(m: ModelRecord) -> str:
    if m.status != "ok":
        return m.status
    return " ".join(p for p in (m.architecture, m.kind) if p) or m.format


def run_list(ctx: Context, args: argparse.Namespace) -> int:
    folder = validate_folder(args.folder) if args.folder else None
    models = asyncio.run(_library(ctx).list_models(args.query, folder))
    if ctx.json:
        out_json([model_json(m) for m in models])
        return 0
    if not models:
        hint = "" if args.query or folder else " (run 'comfy-tui models scan' or 'models import')"
        out(f"no models{hint}")
        return 0
    width = min(max(len(m.relpath) for m in models), 60)
    out(f"{'PATH':<{width}}  {'SIZE':>9}  {'PARAMS':>6}  {'SHA256':<8}  WHAT")
    for m in models:
        sha = m.sha256[:8] if m.sha256 else "-"
        size, params = format_bytes(m.size), format_count(m.parameters)
        out(f"{m.relpath:<{width}}  {size:>9}  {params:>6}  {sha:<8}  {_label(m)}")
    out(f"{plural(len(models), 'model')}, {format_bytes(sum(m.size for m in models))}")
    return 0


# --- import ----------------------------------------------------------------------------------
def run_import(ctx: Context, args: argparse.Namespace) -> int:
    mode: ImportMode = args.mode or "auto"
    outcomes: list[ImportOutcome] = []
    sources = [Path(p) for p in args.paths]
    events = _library(ctx).import_paths(sources, folder=args.folder, mode=mode, outcomes=outcomes)
    run_cli_job(JobKey(JobKind.LIBRARY_IMPORT), "import", events)
    if ctx.json:
        out_json([vars(o) for o in outcomes])
    else:
        for o in outcomes:
            if o.action == "skipped":
                out(f"{o.action:<15} {o.source}: {o.reason}")
            else:
                out(f"{o.action:<15} {o.source} → {o.relpath}")
    return 0


# --- hash ------------------------------------------------------------------------------------
async def _hash(library: LibraryService, refs: list[str]) -> list[ModelRecord]:
    ids = [(await library.find(ref)).id or 0 for ref in refs] if refs else None
    await drive_job(JobKey(JobKind.LIBRARY_HASH), "hash", library.hash_models(ids))
    if ids is None:
        return await library.list_models()
    return [m for m in await library.list_models() if m.id in ids]


def run_hash(ctx: Context, args: argparse.Namespace) -> int:
    models = asyncio.run(_hash(_library(ctx), list(args.paths)))
    if ctx.json:
        out_json([{"relpath": m.relpath, "sha256": m.sha256, "size": m.size} for m in models])
    else:
        for m in models:
            out(f"{m.sha256 or '(not hashed)':<64}  {m.relpath}")
    return 0


# --- dedupe ----------------------------------------------------------------------------------
def _report_json(report: DuplicateReport, applied: bool) -> dict[str, Any]:
    return {
        "applied": applied,
        "reclaimable_bytes": report.reclaimable,
        "cross_filesystem_bytes": report.stranded,
        "groups": [
            {
                "sha256": g.sha256,
                "size": g.size,
                "reclaimable_bytes": g.reclaimable,
                "files": [{"path": f.path, "where": f.where} for f in g.files],
                "cross_filesystem": [f.path for f in g.stranded()],
            }
            for g in report.groups
        ],
    }


async def _dedupe(library: LibraryService, apply: bool) -> DuplicateReport:
    reports: list[DuplicateReport] = []
    await drive_job(
        JobKey(JobKind.LIBRARY_DUPLICATES), "duplicates", library.find_duplicates(reports)
    )
    if apply and reports[0].groups:
        await drive_job(JobKey(JobKind.LIBRARY_DEDUPE), "dedupe", library.apply_dedupe(reports[0]))
    return reports[0]


def run_dedupe(ctx: Context, args: argparse.Namespace) -> int:
    report = asyncio.run(_dedupe(_library(ctx), args.apply))
    if ctx.json:
        out_json(_report_json(report, args.apply))
        return 0
    if not report.groups:
        out("no duplicates")
        return 0
    for g in report.groups:
        out(f"{g.sha256[:12]}  {format_bytes(g.size)} × {len(g.files)}")
        stranded = {f.path for f in g.stranded()}
        for f in g.files:
            note = "  (other filesystem: cannot hard-link)" if f.path in stranded else ""
            out(f"    {f.where:<18} {f.path}{note}")
    verb = "reclaimed" if args.apply else "reclaimable"
    out(f"{plural(len(report.groups), 'group')}, {format_bytes(report.reclaimable)} {verb}")
    if report.stranded:
        out(f"{format_bytes(report.stranded)} on other filesystems cannot be hard-linked")
    if not args.apply and report.reclaimable:
        err("run 'comfy-tui models dedupe --apply' to replace the copies by hard links")
    return 0


# --- rm --------------------------------------------------------------------------------------
async def _remove(library: LibraryService, ref: str) -> tuple[ModelRecord, Path]:
    record = await library.find(ref)
    entry = await library.remove(record)
    return record, entry.file


def run_rm(ctx: Context, args: argparse.Namespace) -> int:
    record, trashed = asyncio.run(_remove(_library(ctx), args.model))
    if ctx.json:
        out_json({"removed": record.relpath, "trash": str(trashed)})
    else:
        out(f"moved {record.relpath} to the trash: {trashed}")
    return 0


# --- info ------------------------------------------------------------------------------------
def info_lines(m: ModelRecord) -> list[tuple[str, str]]:
    """The facts `models info` prints, one (label, value) per line; empty ones left out."""
    source = m.source_repo or m.source_url
    if source and m.source_revision:
        source += f" @ {m.source_revision}"
    facts = [
        ("path", str(m.path)),
        ("folder", m.folder),
        ("what", _label(m)),
        ("architecture", m.architecture),
        ("kind", m.kind),
        ("format", m.format),
        ("precision", "/".join(m.dtypes)),
        ("parameters", format_count(m.parameters) if m.parameters is not None else ""),
        ("tensors", str(m.tensors) if m.tensors is not None else ""),
        ("size", format_bytes(m.size)),
        ("sha256", m.sha256 or "(not hashed: comfy-tui models hash)"),
        ("source", source or ""),
        ("problem", m.problem),
    ]
    return [(label, value) for label, value in facts if value]


def civitai_lines(info: CivitaiInfo | None, api_base: str) -> list[tuple[str, str]]:
    """What CivitAI said, for `models info` (nothing when it was never asked)."""
    if info is None:
        return []
    if not info.found:
        return [("civitai", "not found (CivitAI does not know this file)")]
    title = " — ".join(p for p in (info.model_name, info.version_name) if p)
    facts = [
        ("civitai", title or f"model {info.model_id}"),
        ("base model", info.base_model),
        ("type", info.model_type),
        ("triggers", ", ".join(info.trained_words)),
        ("page", info.page(api_base) or ""),
    ]
    return [(label, value) for label, value in facts if value]


async def _info(
    library: LibraryService, ref: str, ask: bool
) -> tuple[ModelRecord, CivitaiInfo | None]:
    """The model, and what CivitAI said about it (asked now with `ask`, hashing it first)."""
    record = await library.find(ref)
    if not ask:
        return record, await library.civitai(record)
    if not record.sha256 and record.id is not None:
        await drive_job(JobKey(JobKind.LIBRARY_HASH), "hash", library.hash_models([record.id]))
        record = await library.find(ref)
    return record, await library.lookup_civitai(record)


def run_info(ctx: Context, args: argparse.Namespace) -> int:
    library = _library(ctx)
    record, civitai = asyncio.run(_info(library, args.model, args.civitai))
    api = ctx.settings.civitai_api
    if ctx.json:
        doc = model_json(record)
        doc["civitai"] = civitai.to_json(api) if civitai else None
        out_json(doc)
        return 0
    for label, value in [*info_lines(record), *civitai_lines(civitai, api)]:
        out(f"{label + ':':<14}{value}")
    return 0

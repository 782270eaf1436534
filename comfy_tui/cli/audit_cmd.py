"""`comfy-tui audit TAG [--json]`: a version's packages, who brought each, known advisories.

Exit 0 when nothing known is vulnerable, or when pip-audit is missing or cannot reach its
database (said in one line); exit 1 when pip-audit reports advisories.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from comfy_tui.cli.context import Context
from comfy_tui.cli.output import err, out, out_json
from comfy_tui.services.audit import CHECKED, AuditPackage, AuditReport, audit_version

__all__ = ["run_audit"]


def _package_json(p: AuditPackage) -> dict[str, Any]:
    return {
        "name": p.name,
        "version": p.version,
        "node": p.node,
        "comfyui": p.comfyui,
        "vulnerabilities": [
            {"id": v.id, "fix_versions": list(v.fix_versions)} for v in p.vulnerabilities
        ],
    }


def report_json(report: AuditReport) -> dict[str, Any]:
    return {
        "tag": report.tag,
        "packages": [_package_json(p) for p in report.packages],
        "audit": {
            "status": report.status,
            "detail": report.detail or None,
            "vulnerable": len(report.vulnerable),
            "not_checked": list(report.skipped),
        },
    }


def _brought_by(p: AuditPackage) -> str:
    if p.node:
        return f"node {p.node}"
    return "ComfyUI" if p.comfyui else "—"


def run_audit(ctx: Context, args: argparse.Namespace) -> int:
    report = asyncio.run(audit_version(ctx.settings, ctx.paths, args.tag))
    if ctx.json:
        out_json(report_json(report))
    else:
        header = ("PACKAGE", "VERSION", "BROUGHT BY", "ADVISORIES")
        rows = [
            (
                p.name,
                p.version,
                _brought_by(p),
                ", ".join(v.id for v in p.vulnerabilities)
                or ("—" if report.status == CHECKED else ""),
            )
            for p in report.packages
        ]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            out("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if report.status != CHECKED:
            err(report.detail)
        else:
            count = f"{len(report.vulnerable)} of {len(report.packages)} package(s)"
            err(f"pip-audit: {count} have known advisories")
        if report.skipped:
            err(f"not checked by pip-audit (direct references): {', '.join(report.skipped)}")
    return 1 if report.vulnerable else 0

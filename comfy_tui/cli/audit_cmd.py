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
from comfy_tui.services.audit import (
    AuditPackage,
    AuditReport,
    audit_version,
    note_lines,
    table_lines,
)

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


def run_audit(ctx: Context, args: argparse.Namespace) -> int:
    report = asyncio.run(audit_version(ctx.settings, ctx.paths, args.tag))
    if ctx.json:
        out_json(report_json(report))
    else:
        for line in table_lines(report):
            out(line)
        for line in note_lines(report):
            err(line)
    return 1 if report.vulnerable else 0

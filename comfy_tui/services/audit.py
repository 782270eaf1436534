"""`comfy-tui audit TAG`: every package of a version's venv, who brought it, known advisories.

The package list is the venv's exact freeze (uv). Each package is attributed to the custom
node whose applied plan installed it (`store.node_packages`, at the same version), else to
ComfyUI when its requirements.txt names it, else to nobody (a dependency of those, or
installed by hand). When `pip-audit` is installed (the ``audit`` extra, on PATH or beside
this Python) it checks the pinned packages against its advisory database; a missing
pip-audit or an unreachable database is a status, not an error.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from comfy_tui.core.node_plan import canonical_name, requirement_names
from comfy_tui.errors import ProcessError
from comfy_tui.paths import DataPaths
from comfy_tui.services.nodes.uvtool import VenvTool
from comfy_tui.services.nodes.version_env import load_version
from comfy_tui.services.proc import run_capture
from comfy_tui.settings import Settings
from comfy_tui.store.node_packages import load_origins

__all__ = ["AuditPackage", "AuditReport", "Vulnerability", "audit_version", "find_pip_audit"]

PIP_AUDIT = "pip-audit"
TIMEOUT_S = 300.0
NOT_INSTALLED = "not_installed"
UNAVAILABLE = "unavailable"
CHECKED = "checked"


@dataclass(frozen=True)
class Vulnerability:
    id: str
    fix_versions: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuditPackage:
    name: str
    version: str  # "==" version, or the direct reference
    node: str | None  # the custom node that brought it
    comfyui: bool  # ComfyUI's requirements.txt names it
    vulnerabilities: tuple[Vulnerability, ...] = ()


@dataclass(frozen=True)
class AuditReport:
    tag: str
    packages: tuple[AuditPackage, ...]
    status: str  # CHECKED, NOT_INSTALLED or UNAVAILABLE
    detail: str = ""
    skipped: tuple[str, ...] = field(default=())  # not checkable (direct references)

    @property
    def vulnerable(self) -> list[AuditPackage]:
        return [p for p in self.packages if p.vulnerabilities]


def find_pip_audit() -> str | None:
    """pip-audit on PATH, else beside the Python running comfy-tui, else None."""
    found = shutil.which(PIP_AUDIT)
    if found:
        return found
    beside = Path(sys.executable).parent / PIP_AUDIT
    return str(beside) if beside.is_file() else None


def _split(line: str) -> tuple[str, str]:
    if " @ " in line:
        name, _, ref = line.partition(" @ ")
        return name.strip(), ref.strip()
    name, _, version = line.partition("==")
    return name.strip(), version.strip()


def _read_names(path: Path) -> set[str]:
    try:
        return requirement_names(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return set()


def parse_pip_audit(text: str) -> dict[str, tuple[Vulnerability, ...]]:
    """pip-audit's JSON (``{"dependencies": [...]}`` or a bare list) → name → advisories.

    Raises ValueError when `text` is not such a document."""
    doc: Any = json.loads(text)
    deps = doc.get("dependencies") if isinstance(doc, dict) else doc
    if not isinstance(deps, list):
        raise ValueError("no dependency list")
    out: dict[str, tuple[Vulnerability, ...]] = {}
    for dep in deps:
        if not isinstance(dep, dict) or not dep.get("vulns"):
            continue
        vulns = tuple(
            Vulnerability(str(v.get("id", "?")), tuple(str(f) for f in v.get("fix_versions", [])))
            for v in dep["vulns"]
            if isinstance(v, dict)
        )
        out[canonical_name(str(dep.get("name", "")))] = vulns
    return out


async def _run_pip_audit(
    pip_audit: str, pinned: list[str]
) -> tuple[dict[str, tuple[Vulnerability, ...]] | None, str]:
    """(advisories, "") or (None, why not)."""
    with tempfile.TemporaryDirectory(prefix="comfy-tui-audit-") as tmp:
        requirements = Path(tmp) / "requirements.txt"
        await asyncio.to_thread(requirements.write_text, "\n".join(pinned) + "\n")
        argv = [pip_audit, "-r", str(requirements), "--no-deps", "--disable-pip"]
        argv += ["--format", "json", "--progress-spinner", "off"]
        try:
            run = await run_capture(argv, timeout=TIMEOUT_S)
        except ProcessError as exc:
            return None, str(exc)
    try:
        return parse_pip_audit(run.stdout), ""
    except ValueError:
        lines = (run.stderr or run.stdout).strip().splitlines()
        reason = lines[-1].strip() if lines else f"exit {run.returncode}"
        return None, f"pip-audit could not check (its database unreachable?): {reason}"


async def audit_version(
    settings: Settings, paths: DataPaths, tag: str, *, pip_audit: str | None = None
) -> AuditReport:
    """The package list of `tag` with origins, checked by pip-audit when there is one."""
    env = await load_version(paths, tag)
    tool = VenvTool.from_settings(settings, paths)
    frozen = await tool.freeze(env.python)
    origins = await asyncio.to_thread(load_origins, paths, env.tag)
    comfyui = await asyncio.to_thread(_read_names, env.path / "requirements.txt")
    packages: list[AuditPackage] = []
    for line in frozen:
        name, version = _split(line)
        key = canonical_name(name)
        origin = origins.get(key)
        node = origin.node if origin is not None and origin.version == version else None
        packages.append(AuditPackage(name, version, node, key in comfyui))
    pinned = [line for line in frozen if "==" in line and " @ " not in line]
    skipped = tuple(_split(line)[0] for line in frozen if line not in pinned)
    found = pip_audit or find_pip_audit()
    if found is None:
        detail = "pip-audit is not installed (pip install 'comfy-tui[audit]'): no advisory check"
        return AuditReport(env.tag, tuple(packages), NOT_INSTALLED, detail, skipped)
    advisories, why = await _run_pip_audit(found, pinned)
    if advisories is None:
        return AuditReport(env.tag, tuple(packages), UNAVAILABLE, why, skipped)
    checked = tuple(
        AuditPackage(
            p.name, p.version, p.node, p.comfyui, advisories.get(canonical_name(p.name), ())
        )
        for p in packages
    )
    return AuditReport(env.tag, checked, CHECKED, "", skipped)


def _brought_by(p: AuditPackage) -> str:
    if p.node:
        return f"node {p.node}"
    return "ComfyUI" if p.comfyui else "—"


def table_lines(report: AuditReport) -> list[str]:
    """The package table `comfy-tui audit` prints (and the TUI's audit report shows)."""
    header = ("PACKAGE", "VERSION", "BROUGHT BY", "ADVISORIES")
    rows = [
        (
            p.name,
            p.version,
            _brought_by(p),
            ", ".join(v.id for v in p.vulnerabilities) or ("—" if report.status == CHECKED else ""),
        )
        for p in report.packages
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]


def note_lines(report: AuditReport) -> list[str]:
    """What the check said: advisories counted, or why none were checked; what was skipped."""
    if report.status != CHECKED:
        notes = [report.detail]
    else:
        count = f"{len(report.vulnerable)} of {len(report.packages)} package(s)"
        notes = [f"pip-audit: {count} have known advisories"]
    if report.skipped:
        notes.append(f"not checked by pip-audit (direct references): {', '.join(report.skipped)}")
    return notes

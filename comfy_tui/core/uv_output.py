"""Reading uv's (and pip's) output: error text with its hints, dry-run plans, upload-date misses.

Pure functions over the output lines of one run:

- `hint_lines`: uv's own ``hint:`` / ``help:`` paragraphs, in full (continuation lines joined),
  so a failure message can carry the advice uv gave;
- `missing_upload_date`: the packages uv could not date under ``--exclude-newer`` (their index
  gives no upload time): from the ``hint: `X` was filtered by `exclude-newer``` paragraphs and
  the ``warning: `X-1.0-....whl` is missing an upload date`` lines;
- `dry_run_plan`: the ``+ name==version`` lines of ``uv pip install --dry-run``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["dry_run_plan", "hint_lines", "missing_upload_date", "normalize_name"]

_HINT = re.compile(r"^\s*(hint|help):\s*", re.IGNORECASE)
_FILTERED = re.compile(r"`([A-Za-z0-9][A-Za-z0-9._-]*)` was filtered by `exclude-newer`")
_NO_DATE = re.compile(r"`([^`/]+?)-\d[^`/]*?\.(?:whl|tar\.gz|zip)` is missing an upload date")
_PLAN = re.compile(r"^\s*\+\s+([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)")


def normalize_name(name: str) -> str:
    """PEP 503 normal form: lower case, runs of ``-_.`` as one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def hint_lines(lines: Iterable[str]) -> list[str]:
    """Each ``hint:``/``help:`` paragraph of the output as one line ("hint: ...")."""
    out: list[str] = []
    current: list[str] | None = None
    for raw in lines:
        line = raw.rstrip()
        match = _HINT.match(line)
        if match:
            if current:
                out.append(" ".join(current))
            current = [f"{match.group(1).lower()}: {line[match.end() :].strip()}"]
        elif current is not None and line.startswith((" ", "\t")) and line.strip():
            current.append(line.strip())  # a wrapped hint continues indented
        elif current is not None:
            out.append(" ".join(current))
            current = None
    if current:
        out.append(" ".join(current))
    return out


def missing_upload_date(lines: Iterable[str]) -> list[str]:
    """Normalized names of the packages uv could not date under --exclude-newer, sorted."""
    names: set[str] = set()
    for line in lines:
        for match in _FILTERED.finditer(line):
            names.add(normalize_name(match.group(1)))
        for match in _NO_DATE.finditer(line):
            names.add(normalize_name(match.group(1)))
    return sorted(names)


def dry_run_plan(lines: Iterable[str]) -> dict[str, str]:
    """``{normalized name: version}`` of what a dry run would install."""
    plan: dict[str, str] = {}
    for line in lines:
        match = _PLAN.match(line)
        if match:
            plan[normalize_name(match.group(1))] = match.group(2)
    return plan

"""Which lines of a custom node's requirements.txt comfy-tui accepts without asking. Pure.

A node may name packages (``numpy>=1.25``, extras, environment markers, ``--hash``). Refused,
each with its line quoted and the reason, are the lines that would take packages from
somewhere else than the user's package sources, or build and run code from an arbitrary place:

- direct references (``name @ file://...``, ``name @ https://...``), VCS and plain URLs or
  paths (``git+https://...``, ``./pkg.tar.gz``);
- editable installs (``-e``);
- nested ``-r``/``-c`` files outside the node's folder (inside it they are checked too);
- option lines (``--index-url``, ``-i``, ``--extra-index-url``, ``-f``/``--find-links``,
  ``--trusted-host``, ``--no-binary`` and every other pip option).

`check_requirements` walks a requirements file and the nested files it names; `read` is
given so that the caller decides how files are read (in a thread, from a test's dict).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from comfy_tui.errors import ValidationError

__all__ = ["RefusedLine", "RequirementsRefused", "check_requirements", "logical_lines"]

MAX_DEPTH = 5
_DIRECT_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@")
_URL_OR_PATH = re.compile(r"^([a-z][a-z0-9+.-]*://|[a-z]+\+[a-z]+:|[./~]|[A-Za-z]:\\)", re.I)
_ARCHIVE = re.compile(r"\.(whl|tar\.gz|tgz|tar\.bz2|zip)$", re.I)
_NESTED = {"-r": "-r", "--requirement": "-r", "-c": "-c", "--constraint": "-c"}
_EDITABLE = ("-e", "--editable")
_SOURCES = frozenset(
    {
        "-i",
        "--index-url",
        "--extra-index-url",
        "--no-index",
        "-f",
        "--find-links",
        "--trusted-host",
        "--index",
        "--default-index",
    }
)

SOURCE_REASON = "a package source option: comfy-tui installs only from your package sources"
DIRECT_REASON = (
    "a direct reference: the package comes from this URL or path, not from your package "
    "sources, and may be built from source (running its setup code)"
)
URL_REASON = "a URL or path instead of a package name (a direct reference)"
EDITABLE_REASON = "an editable install: it builds and runs the project's code from that place"
OUTSIDE_REASON = "a requirements file outside the node's folder"
OPTION_REASON = "a pip option: it changes how packages are found or built"


@dataclass(frozen=True)
class RefusedLine:
    """One requirement line comfy-tui does not accept without an explicit go-ahead."""

    source: str  # "Node/requirements.txt"
    number: int
    text: str
    reason: str

    def describe(self) -> str:
        return f"{self.source} line {self.number}: {self.text!r}: {self.reason}"


class RequirementsRefused(ValidationError):
    """A node's requirements use lines that need `--allow-direct-refs`; nothing was run."""

    def __init__(self, node: str, lines: list[RefusedLine]) -> None:
        self.node = node
        self.lines = tuple(lines)
        listed = "; ".join(line.describe() for line in lines)
        super().__init__(
            f"{node}'s requirements are refused: {listed}. Read them; "
            "--allow-direct-refs goes on anyway"
        )


def logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, line) with comments cut and backslash continuations joined."""
    out: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = re.sub(r"(^|\s)#.*$", "", raw)
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined = (pending + line).strip()
        pending = ""
        if joined:
            out.append((start, joined))
    if pending.strip():
        out.append((start, pending.strip()))
    return out


def _option(line: str) -> tuple[str, str]:
    """("-r", "file") for ``-r file``, ``-rfile``, ``--requirement=file``."""
    head, _, rest = line.partition(" ")
    if "=" in head and head.startswith("--"):
        head, _, value = head.partition("=")
        return head, value.strip()
    if not head.startswith("--") and len(head) > 2:
        return head[:2], head[2:].lstrip("=")
    return head, rest.strip()


def _within(path: Path, root: Path) -> bool:
    real = Path(os.path.realpath(path))
    base = Path(os.path.realpath(root))
    return real == base or base in real.parents


def _requirement_reason(line: str) -> str | None:
    spec, _, options = line.partition(" --")
    if _DIRECT_REF.match(spec):
        return DIRECT_REASON
    if _URL_OR_PATH.match(spec) or _ARCHIVE.search(spec.split(";")[0].strip()):
        return URL_REASON
    if options and not all(o.startswith("hash") for o in (" --" + options).split(" --")[1:]):
        return OPTION_REASON
    return None


def check_requirements(
    path: Path,
    root: Path,
    read: Callable[[Path], str],
    *,
    label: str = "",
    _depth: int = 0,
    _seen: frozenset[Path] = frozenset(),
) -> list[RefusedLine]:
    """Every refused line of the requirements file `path` and the nested files inside `root`.

    `label` names the file in messages (default: its path relative to `root`'s parent)."""
    source = label or _label(path, root)
    refused: list[RefusedLine] = []
    for number, line in logical_lines(read(path)):
        if line.startswith("-"):
            option, value = _option(line)
            if option in _NESTED and value:
                target = path.parent / value
                if not _within(target, root):
                    refused.append(RefusedLine(source, number, line, OUTSIDE_REASON))
                    continue
                real = Path(os.path.realpath(target))
                if real in _seen or _depth >= MAX_DEPTH:
                    continue
                try:
                    refused += check_requirements(
                        target, root, read, _depth=_depth + 1, _seen=_seen | {real}
                    )
                except OSError as exc:
                    raise ValidationError(
                        f"{source} line {number}: cannot read {value!r} ({exc.strerror or exc})"
                    ) from None
                continue
            if option in _EDITABLE:
                reason = EDITABLE_REASON
            elif option in _SOURCES:
                reason = SOURCE_REASON
            else:
                reason = OPTION_REASON
            refused.append(RefusedLine(source, number, line, reason))
            continue
        problem = _requirement_reason(line)
        if problem is not None:
            refused.append(RefusedLine(source, number, line, problem))
    return refused


def _label(path: Path, root: Path) -> str:
    try:
        return f"{root.name}/{path.relative_to(root)}"
    except ValueError:
        return str(path)

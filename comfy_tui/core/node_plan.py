"""Custom nodes, the pure part: names, mirror URLs, requirements checks, what uv would change.

- A node's name comes from its repository URL (the last path part, without ``.git``) and
  becomes a folder name in `nodes/` and in each version's `custom_nodes/`, so it is checked
  like a tag: ASCII letters, digits, ``.``, ``-`` and ``_``.
- With the `nodes_mirror` setting, ``https://host/owner/Repo`` is cloned from
  ``<mirror>/owner/Repo.git`` instead (the host is dropped, ``.git`` added when missing).
- Which requirement lines a node may use is `core.req_policy`'s business; plans are made
  with ``--no-build``, and `source_build_names` reads which packages uv would have to build.
- uv's ``--dry-run`` prints `` + name==1.0`` / `` - name==0.9`` lines; `parse_changes` turns
  them into `PackageChange`s and `torch_changes` picks the ones that touch the torch family.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass

from comfy_tui.core.install_plan import TORCH_FAMILY
from comfy_tui.errors import ValidationError
from comfy_tui.validate import validate_url

__all__ = [
    "PackageChange",
    "canonical_name",
    "clone_source",
    "diff_packages",
    "mirror_url",
    "node_name_from_url",
    "parse_changes",
    "parse_freeze",
    "requirement_names",
    "source_build_names",
    "torch_changes",
    "validate_node_name",
]

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", re.ASCII)
_CHANGE = re.compile(r"^\s*([+\-~])\s+(\S+?)(?:==(\S+)|\s+@\s+(\S+))?\s*$")
_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_NEEDS_BUILD = re.compile(
    r"(?:Building source distributions for|Wheels are required for|Failed to build) `([^`]+)`"
)


def validate_node_name(name: str) -> str:
    """Check a node name (a folder name in `nodes/` and `custom_nodes/`)."""
    if not isinstance(name, str) or not name:
        raise ValidationError("invalid node name: it is empty")
    shown = repr(name[:80])
    if not _NAME.fullmatch(name):
        raise ValidationError(
            f"invalid node name {shown}: use letters, digits, '.', '-' and '_' only, "
            "starting with a letter or digit (at most 100 characters)"
        )
    lowered = name.lower()
    if ".." in name or lowered.endswith((".git", ".disabled", ".lock", ".")):
        raise ValidationError(
            f"invalid node name {shown}: it must not contain '..' or end with "
            "'.git', '.disabled', '.lock' or '.'"
        )
    return name


def _url_path(url: str) -> list[str]:
    parts = urllib.parse.urlsplit(url)
    if parts.query or parts.fragment:
        raise ValidationError(
            f"invalid node repository URL {url[:80]!r}: it must not have a '?query' or '#fragment'"
        )
    return [p for p in urllib.parse.unquote(parts.path).split("/") if p]


def node_name_from_url(url: str) -> str:
    """The https URL checked, and the node's name from its last path part (``.git`` cut)."""
    validate_url(url, what="node repository URL")
    segments = _url_path(url)
    if not segments:
        raise ValidationError(
            f"invalid node repository URL {url[:80]!r}: it names no repository "
            "(expected https://host/owner/Repo)"
        )
    last = segments[-1]
    return validate_node_name(last[:-4] if last.lower().endswith(".git") else last)


def mirror_url(mirror: str, url: str) -> str:
    """Where `url` is cloned from when the `nodes_mirror` setting is `mirror`."""
    segments = _url_path(url)
    if any(s in (".", "..") for s in segments):
        raise ValidationError(f"invalid node repository URL {url[:80]!r}: '..' is not allowed")
    if not segments[-1].lower().endswith(".git"):
        segments[-1] += ".git"
    return mirror.rstrip("/") + "/" + "/".join(urllib.parse.quote(s) for s in segments)


def clone_source(mirror: str | None, url: str) -> str:
    """Where a node with repository `url` is cloned and fetched from (its mirror, if set)."""
    return mirror_url(mirror, url) if mirror else url


def canonical_name(name: str) -> str:
    """PEP 503 normalised package name (``Foo_Bar`` → ``foo-bar``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def source_build_names(lines: Iterable[str]) -> list[str]:
    """The packages uv (run with ``--no-build``) says it would have to build from source."""
    names: dict[str, str] = {}
    for line in lines:
        for match in _NEEDS_BUILD.finditer(line):
            name = re.split(r"[\s=<>!~@\[]", match.group(1), maxsplit=1)[0]
            names.setdefault(canonical_name(name), name)
    return sorted(names.values(), key=str.lower)


def requirement_names(text: str) -> set[str]:
    """Canonical names of the packages a requirements text asks for (best effort)."""
    names: set[str] = set()
    for raw in text.splitlines():
        line = raw.split("#", 1)[0]
        match = _REQ_NAME.match(line)
        if match:
            names.add(canonical_name(match.group(1)))
    return names


@dataclass(frozen=True)
class PackageChange:
    """One package uv would add, remove or change: `old`/`new` is "" when absent."""

    name: str
    old: str = ""
    new: str = ""

    @property
    def torch(self) -> bool:
        return canonical_name(self.name) in TORCH_FAMILY

    def describe(self) -> str:
        if not self.old:
            return f"+ {self.name} {self.new}"
        if not self.new:
            return f"- {self.name} {self.old}"
        return f"~ {self.name} {self.old} → {self.new}"


def parse_changes(lines: Iterable[str]) -> list[PackageChange]:
    """uv's dry-run (or install/sync) output → the changes, one per package, sorted by name."""
    old: dict[str, tuple[str, str]] = {}
    new: dict[str, tuple[str, str]] = {}
    for line in lines:
        match = _CHANGE.match(line)
        if not match:
            continue
        sign, name, version, url = match.groups()
        what = version or url or "?"
        key = canonical_name(name)
        if sign in "-~":
            old[key] = (name, what)
        if sign in "+~":
            new[key] = (name, what)
    changes = []
    for key in sorted(old.keys() | new.keys()):
        before, after = old.get(key, ("", "")), new.get(key, ("", ""))
        if before[1] == after[1]:
            continue  # a reinstall of the same version changes nothing for the user
        changes.append(PackageChange(after[0] or before[0], before[1], after[1]))
    return changes


def torch_changes(changes: Iterable[PackageChange]) -> list[PackageChange]:
    return [c for c in changes if c.torch]


def parse_freeze(text: str) -> tuple[str, ...]:
    """`uv pip freeze` output → its requirement lines (comments and blanks dropped), sorted."""
    lines = {line.strip() for line in text.splitlines()}
    return tuple(
        sorted((line for line in lines if line and not line.startswith("#")), key=str.lower)
    )


def _split(line: str) -> tuple[str, str]:
    if "==" in line:
        name, _, version = line.partition("==")
        return canonical_name(name.strip()), version.strip()
    if " @ " in line:
        name, _, url = line.partition(" @ ")
        return canonical_name(name.strip()), url.strip()
    return canonical_name(line.strip()), ""


def diff_packages(before: Iterable[str], after: Iterable[str]) -> list[PackageChange]:
    """What turns the freeze list `before` into `after`."""
    old = dict(_split(line) for line in before)
    new = dict(_split(line) for line in after)
    return [
        PackageChange(name, old.get(name, ""), new.get(name, ""))
        for name in sorted(old.keys() | new.keys())
        if old.get(name, "") != new.get(name, "")
    ]

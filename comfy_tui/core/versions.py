"""Version tags parsed and ordered for real: v0.3.75 < v0.4.0 < v0.45.2, never as strings.

ComfyUI tags look like ``vMAJOR.MINOR.PATCH`` (see the notes: v0.3.x through 2025, then
v0.4.0 and a minor number that grows each week). Prereleases such as ``v0.4.0-rc1``,
``v0.4.0-beta.2`` or ``v0.4.0a1`` sort before their release and are flagged. A tag that is not
a version at all (``latest``, ``nightly-2025``) cannot be ordered; sorting puts those last.

Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "Version",
    "is_prerelease",
    "parse_version",
    "sort_newest_first",
    "sort_oldest_first",
    "version_key",
]

_PATTERN = re.compile(
    r"""
    v?
    (?P<release>[0-9]+(?:\.[0-9]+){0,5})
    (?:
        [-_.]?
        (?P<label>dev|alpha|a|beta|b|preview|pre|rc|c)
        (?:[-_.]?(?P<number>[0-9]+))?
    )?
    (?:\+(?P<local>[A-Za-z0-9]+(?:\.[A-Za-z0-9]+)*))?
    """,
    re.VERBOSE | re.ASCII | re.IGNORECASE,
)

_LABEL_RANK = {
    "dev": 0,
    "alpha": 1,
    "a": 1,
    "beta": 2,
    "b": 2,
    "preview": 3,
    "pre": 3,
    "rc": 4,
    "c": 4,
}
_FINAL_RANK = 5
_MAX_PART = 10**9
"""Numbers above this are not version parts (a date-like 20251112 still fits)."""


@dataclass(frozen=True, order=True)
class Version:
    """A parsed version. Comparing two Versions orders them as releases are ordered.

    `release` has its trailing zeros removed, so v0.4 == v0.4.0. The prerelease rank is
    dev < alpha < beta < preview < rc < the release itself.
    """

    release: tuple[int, ...]
    pre_rank: int = _FINAL_RANK
    pre_number: int = 0

    @property
    def is_prerelease(self) -> bool:
        return self.pre_rank != _FINAL_RANK


def parse_version(tag: str) -> Version | None:
    """The Version a tag spells, or None when it is not a version."""
    match = _PATTERN.fullmatch(tag.strip())
    if match is None:
        return None
    parts = [int(p) for p in match["release"].split(".")]
    if any(p > _MAX_PART for p in parts):
        return None
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    label = match["label"]
    if label is None:
        return Version(tuple(parts))
    number = int(match["number"]) if match["number"] is not None else 0
    if number > _MAX_PART:
        return None
    return Version(tuple(parts), _LABEL_RANK[label.lower()], number)


def is_prerelease(tag: str) -> bool:
    """True for a tag such as v0.4.0-rc1; False for releases and for tags that are no version."""
    version = parse_version(tag)
    return version is not None and version.is_prerelease


def version_key(tag: str) -> tuple[int, Version, str]:
    """An ascending sort key: versions in version order, then every unparseable tag by name.

    The tag itself breaks ties (v0.4 and v0.4.0 are equal versions), so the order is total.
    """
    version = parse_version(tag)
    if version is None:
        return (1, Version(()), tag)
    return (0, version, tag)


def sort_oldest_first(tags: Iterable[str]) -> list[str]:
    """Oldest version first; tags that are not versions last, by name."""
    return sorted(tags, key=version_key)


def sort_newest_first(tags: Iterable[str]) -> list[str]:
    """Newest version first; tags that are not versions last, by name."""
    items = list(tags)
    versions = sorted((t for t in items if parse_version(t) is not None), key=version_key)
    others = sorted(t for t in items if parse_version(t) is None)
    return [*reversed(versions), *others]

"""What the release list is made of: `Release`, `ReleaseList`, and how remote data becomes them.

Everything that arrives from GitHub, from the cache file or from `git for-each-ref` passes
through `make_release`, which validates the tag (`validate_tag`) and cleans the rest; a bad
entry is skipped with a log line, never shown and never used as a path or git argument.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC
from typing import Any, Literal

from comfy_tui.core.timefmt import parse_iso
from comfy_tui.core.versions import is_prerelease, sort_newest_first
from comfy_tui.errors import ValidationError
from comfy_tui.validate import validate_tag, validate_url

log = logging.getLogger(__name__)

Source = Literal["github", "cache", "mirror", "none"]
"""Where a list came from: GitHub just now, the cache file, the git mirror's tags, nowhere."""

_NAME_MAX = 120


@dataclass(frozen=True)
class Release:
    """One ComfyUI release (or a bare tag of the mirror)."""

    tag: str
    name: str = ""
    published_at: str = ""  # ISO 8601 UTC ("2025-11-20T12:00:00Z"), "" when unknown
    prerelease: bool = False
    html_url: str = ""  # https:// only, "" when unknown

    def to_json(self) -> dict[str, Any]:
        return {
            "tag": self.tag,
            "name": self.name,
            "published_at": self.published_at,
            "prerelease": self.prerelease,
            "html_url": self.html_url,
        }


@dataclass(frozen=True)
class ReleaseList:
    """The answer of `GitHubReleases.list`: releases newest first, where they came from, how old.

    `warning` is one short line for the user ("GitHub unreachable — showing releases cached
    3 h ago"); `error` is the full reason behind it, for the log and `--json`.
    """

    releases: tuple[Release, ...]
    source: Source
    fetched_at: float | None = None
    age_s: float | None = None
    warning: str = ""
    error: str = ""

    def visible(self, include_prereleases: bool = False) -> tuple[Release, ...]:
        if include_prereleases:
            return self.releases
        return tuple(r for r in self.releases if not r.prerelease)

    def find(self, tag: str) -> Release | None:
        return next((r for r in self.releases if r.tag == tag), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "fetched_at": self.fetched_at,
            "age_seconds": None if self.age_s is None else round(self.age_s, 1),
            "warning": self.warning or None,
            "error": self.error or None,
            "releases": [r.to_json() for r in self.releases],
        }


def _clean_text(value: object, limit: int = _NAME_MAX) -> str:
    """One line of printable text, at most `limit` characters."""
    if not isinstance(value, str):
        return ""
    text = "".join(ch if ch.isprintable() else " " for ch in value)
    return " ".join(text.split())[:limit]


def normalise_time(value: object) -> str:
    """An ISO timestamp as `YYYY-MM-DDTHH:MM:SSZ` (UTC); "" when it is not one."""
    parsed = parse_iso(value) if isinstance(value, str) else None
    return parsed.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if parsed else ""


def _https_or_empty(value: object) -> str:
    if not isinstance(value, str) or not value:
        return ""
    try:
        return validate_url(value)
    except ValidationError:
        return ""


def make_release(
    tag: object,
    *,
    name: object = "",
    published_at: object = "",
    prerelease: object = False,
    html_url: object = "",
    origin: str = "GitHub",
) -> Release | None:
    """A validated Release, or None (logged) when the tag is not acceptable."""
    try:
        valid = validate_tag(tag)  # type: ignore[arg-type]  # remote data: checked at run time
    except ValidationError as exc:
        log.warning("skipping a release from %s: %s", origin, exc)
        return None
    return Release(
        tag=valid,
        name=_clean_text(name) or valid,
        published_at=normalise_time(published_at),
        prerelease=prerelease is True or is_prerelease(valid),
        html_url=_https_or_empty(html_url),
    )


def from_github_item(item: object) -> Release | None:
    """A Release from one element of GitHub's `/releases` array (drafts are skipped)."""
    if not isinstance(item, dict):
        log.warning("skipping a release from GitHub: not a JSON object")
        return None
    if item.get("draft") is True:
        return None
    return make_release(
        item.get("tag_name"),
        name=item.get("name"),
        published_at=item.get("published_at") or item.get("created_at"),
        prerelease=item.get("prerelease"),
        html_url=item.get("html_url"),
    )


def from_cache_item(item: object) -> Release | None:
    """A Release from one entry of `github_cache.json` (checked again: files can be edited)."""
    if not isinstance(item, dict):
        return None
    return make_release(
        item.get("tag"),
        name=item.get("name"),
        published_at=item.get("published_at"),
        prerelease=item.get("prerelease"),
        html_url=item.get("html_url"),
        origin="the release cache",
    )


def ordered(releases: Iterable[Release]) -> tuple[Release, ...]:
    """Newest version first (the version parser decides), one entry per tag."""
    by_tag: dict[str, Release] = {}
    for release in releases:
        by_tag.setdefault(release.tag, release)
    return tuple(by_tag[tag] for tag in sort_newest_first(by_tag))

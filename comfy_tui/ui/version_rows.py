"""The rows of the Versions table: releases and installed versions merged, marked and filtered.

Pure (no Textual, no I/O), so the rules are unit-tested on their own: every release and every
installed version appears once, newest first by the version parser; prereleases are hidden
unless asked for (an installed or installing one always shows); the filter matches the tag or
the release name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from comfy_tui.core.size_estimate import SizeEstimate, size_text
from comfy_tui.core.timefmt import format_date
from comfy_tui.core.units import format_age, format_bytes
from comfy_tui.core.versions import is_prerelease, sort_newest_first
from comfy_tui.services.release_list import Release, ReleaseList
from comfy_tui.store.version_records import VersionRecord


@dataclass(frozen=True)
class VersionRow:
    """One line of the table."""

    tag: str
    released: str  # "2025-11-21" or "—"
    prerelease: bool
    installed: bool
    default: bool
    running: int
    installing: float | None  # the install's fraction while one runs, else None
    size: str  # "1.3 GiB own" installed, "~6.1 GiB / 3.0 GiB" (disk / download) estimated, ""

    @property
    def status(self) -> str:
        """`default · running 2`, `installed`, `installing 42%`, `pre`, ..."""
        parts = []
        if self.installing is not None:
            parts.append(f"installing {self.installing * 100:.0f}%")
        if self.default:
            parts.append("default")
        elif self.installed:
            parts.append("installed")
        if self.running:
            parts.append(f"running {self.running}")
        if self.prerelease:
            parts.append("pre")
        return " · ".join(parts)

    @property
    def marker(self) -> str:
        """One glyph: ▶ running, ★ default, ● installed, ◌ installing, blank otherwise."""
        if self.running:
            return "▶"
        if self.default:
            return "★"
        if self.installed:
            return "●"
        if self.installing is not None:
            return "◌"
        return " "


def build_rows(
    releases: Sequence[Release],
    records: Sequence[VersionRecord],
    *,
    default: str | None = None,
    running: Mapping[str, int] | None = None,
    installing: Mapping[str, float] | None = None,
    show_prereleases: bool = False,
    query: str = "",
    own_bytes: Mapping[str, int] | None = None,
    estimates: Mapping[str, SizeEstimate] | None = None,
) -> list[VersionRow]:
    """The table's rows, newest first. `own_bytes`: what each installed version holds alone
    (freed by removing it; the rest is hardlinked with other versions and uv's cache); the
    recorded install size stands in until it is known. `estimates`: what installing a
    release would take (`~disk / download`), shown for releases not installed."""
    own_bytes = own_bytes or {}
    estimates = estimates or {}
    running = running or {}
    installing = installing or {}
    by_tag = {r.tag: r for r in releases}
    installed = {r.tag: r for r in records}
    needle = query.strip().lower()
    rows = []
    for tag in sort_newest_first({*by_tag, *installed, *installing}):
        release = by_tag.get(tag)
        record = installed.get(tag)
        pre = release.prerelease if release else is_prerelease(tag)
        if pre and not show_prereleases and record is None and tag not in installing:
            continue
        if (
            needle
            and needle not in tag.lower()
            and needle not in (release.name if release else "").lower()
        ):
            continue
        rows.append(
            VersionRow(
                tag=tag,
                released=format_date(release.published_at) if release else "—",
                prerelease=pre,
                installed=record is not None,
                default=record is not None and tag == default,
                running=running.get(tag, 0),
                installing=installing.get(tag),
                size=_size(record, own_bytes.get(tag)) or size_text(estimates.get(tag)),
            )
        )
    return rows


def _size(record: VersionRecord | None, own: int | None) -> str:
    if record is None:
        return ""
    if own is not None:
        return f"{format_bytes(own)} own"
    return format_bytes(record.size_bytes) if record.size_bytes else ""


_SOURCE = {"github": "from GitHub", "cache": "cached", "mirror": "from the local git tags"}


def status_line(
    listed: ReleaseList | None,
    shown: int,
    *,
    installed: int,
    checking: bool,
    show_prereleases: bool,
    disk_total: int = 0,
) -> tuple[str, bool]:
    """The line under the table and whether it is a warning."""
    busy = " · checking GitHub…" if checking else ""
    if listed is None:
        return ("Checking GitHub for ComfyUI releases…" if checking else ""), False
    if listed.warning:
        return f"{listed.warning}{busy}", True
    age = ""
    if listed.age_s is not None and listed.source != "mirror":
        age = f" {format_age(listed.age_s)}"
    hidden = 0 if show_prereleases else sum(1 for r in listed.releases if r.prerelease)
    pre = f" · {hidden} prereleases hidden (p)" if hidden else ""
    mine = f" · {installed} installed" if installed else ""
    if installed and disk_total:
        mine += f" ({format_bytes(disk_total)} on disk)"
    source = _SOURCE.get(listed.source, listed.source)
    return f"{shown} shown · {source}{age}{mine}{pre}{busy}", False


def empty_text(query: str, checking: bool) -> str:
    """What the screen says instead of an empty table."""
    if query:
        return f"Nothing matches “{query}” — escape clears the filter"
    if checking:
        return "Fetching the list of ComfyUI releases…"
    return "No releases known yet — press r to fetch the list"

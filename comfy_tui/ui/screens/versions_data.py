"""What the Versions screen shows: its widgets, the data it reads in workers (installed
versions, the default, what runs, disk use, the release list, install size estimates) and the
table and status line drawn from them (`version_rows.py` builds the rows).

The release list is shown from the cache at once and refreshed in a background worker (never
blocking the app); installed/default/running markers come from the version records and the
`running_versions` source. `VersionsScreen` (versions.py) adds the keys' actions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from textual import work
from textual.app import ComposeResult
from textual.reactive import reactive
from textual.widgets import Input

from comfy_tui.core.size_estimate import SizeEstimate
from comfy_tui.errors import ComfyTuiError
from comfy_tui.services.disk_usage import DiskReport
from comfy_tui.services.release_list import ReleaseList
from comfy_tui.store.version_records import VersionRecord
from comfy_tui.ui.screens.base import ModeScreen
from comfy_tui.ui.version_rows import VersionRow, build_rows, empty_text, status_line
from comfy_tui.ui.widgets.card import Line
from comfy_tui.ui.widgets.empty_state import EmptyState
from comfy_tui.ui.widgets.install_panel import InstallPanels
from comfy_tui.ui.widgets.version_table import VersionTable

log = logging.getLogger(__name__)

RUNNING_POLL_S = 5.0
RESOLVE_LIMIT = 8
"""Dependency sets the screen sizes with uv per load (the newest releases first)."""


class VersionsData(ModeScreen):
    """The Versions screen's state, its loading workers and its drawing."""

    checking: reactive[bool] = reactive(False, init=False)
    """The release list is being fetched (the status line says so)."""
    show_prereleases: reactive[bool] = reactive(False, init=False)
    query_text: reactive[str] = reactive("", init=False)
    """The filter typed into the box above the table."""

    def __init__(self) -> None:
        super().__init__()
        self.listed: ReleaseList | None = None
        self.records: list[VersionRecord] = []
        self.default: str | None = None
        self.running: Mapping[str, int] = {}
        self.disk: DiskReport | None = None
        self.estimates: dict[str, SizeEstimate] = {}
        self._loaded = False

    def compose_body(self) -> ComposeResult:
        yield Input(
            placeholder="filter: tag or name (enter keeps, escape clears)", id="versions-filter"
        )
        yield VersionTable(id="versions-table")
        yield EmptyState("No releases known yet — press r to fetch the list", id="versions-empty")
        yield Line("", id="versions-status")
        yield InstallPanels(id="versions-installs")

    # --- loading ------------------------------------------------------------------------
    def load(self, *, refresh: bool) -> None:
        """Installed versions, then the release list, in background workers."""
        self._loaded = True
        self._reload_local()
        self._load_releases(refresh)

    def watch_checking(self) -> None:
        self.render_rows()

    def watch_show_prereleases(self) -> None:
        self.render_rows()

    def watch_query_text(self) -> None:
        self.render_rows()

    @work(group="versions:local", exclusive=True, exit_on_error=False)
    async def _reload_local(self) -> None:
        """The installed versions, the default and what runs; then their disk use."""
        services = self.comfy_app.services
        try:
            self.records = await services.versions.installed()
            self.default = await services.versions.get_default()
            self.running = dict(await services.running_versions())
        except ComfyTuiError as exc:
            self.show_error("Reading the installed versions failed", exc)
        self.render_rows()
        # a walk of every installed file: in a thread (the service's), after the rows show
        self.disk = await services.versions.disk(r.tag for r in self.records)
        self.render_rows()

    @work(
        group="versions:releases",
        exclusive=True,
        exit_on_error=False,
        description="fetch the ComfyUI release list",
    )
    async def _load_releases(self, refresh: bool) -> None:
        services = self.comfy_app.services
        # built in a thread: it imports aiohttp (~0.1 s the loop would otherwise stall for)
        releases = await asyncio.to_thread(lambda: services.releases)
        if self.listed is None:
            self.listed = await releases.cached()
        self.checking = True  # drawn by watch_checking
        try:
            self.listed = await releases.list(refresh=refresh)
        except Exception:  # never let a surprise kill the screen; the log has it
            log.exception("loading the release list failed")
        finally:
            self.checking = False
        self._load_estimates()

    @work(
        group="versions:sizes",
        exclusive=True,
        exit_on_error=False,
        description="estimate install sizes",
    )
    async def _load_estimates(self) -> None:
        """Sizes of the releases not installed: the known ones at once, then the newest
        unknown dependency sets from a uv resolution (subprocesses; index metadata only)."""
        if self.listed is None:
            return
        versions = self.comfy_app.services.versions
        installed = {r.tag for r in self.records}
        tags = [r.tag for r in self.listed.releases if r.tag not in installed]
        choices = await versions.install_choices()
        for resolve in (False, True):
            try:
                found = await versions.size_estimates(
                    tags, choices=choices, resolve=resolve, limit=RESOLVE_LIMIT
                )
            except ComfyTuiError as exc:
                log.warning("no size estimates: %s", exc)
                return
            if found != self.estimates:
                self.estimates = found
                self.render_rows()

    async def _poll_running(self) -> None:
        running = dict(await self.comfy_app.services.running_versions())
        if running != self.running:
            self.running = running
            self.render_rows()

    @work(group="versions:estimate", exclusive=True, exit_on_error=False)
    async def estimate_size(self, tag: str) -> None:
        """`e`: `tag`'s size from a uv resolution now (`releases --estimate`); a new `e` wins."""
        versions = self.comfy_app.services.versions
        try:
            choices = await versions.install_choices()
            found = await versions.size_estimates([tag], choices=choices, resolve=True, limit=1)
        except ComfyTuiError as exc:
            self.show_error(f"Estimate {tag} failed", exc)
            return
        if tag not in found:
            self.notify(f"No estimate for {tag}: the mirror does not have it yet", title="Estimate")
            return
        self.estimates = {**self.estimates, **found}
        self.render_rows()

    # --- rendering ----------------------------------------------------------------------
    def rows(self) -> list[VersionRow]:
        return build_rows(
            self.listed.releases if self.listed else (),
            self.records,
            default=self.default,
            running=self.running,
            installing=self.installs.fractions(),
            show_prereleases=self.show_prereleases,
            query=self.query_text,
            own_bytes={t: d.disk_bytes for t, d in self.disk.versions.items()}
            if self.disk
            else None,
            estimates=self.estimates,
        )

    def render_rows(self) -> None:
        if not self.is_mounted:
            return
        rows = self.rows()
        table = self.query_one(VersionTable)
        table.show(rows)
        table.display = bool(rows)
        if rows and self.focused is None:  # the table was hidden when the screen took focus
            table.focus()
        empty = self.query_one(EmptyState)
        empty.display = not rows
        empty.show(empty_text(self.query_text, self.checking))
        status = self.query_one("#versions-status", Line)
        text, warn = status_line(
            self.listed,
            len(rows),
            installed=len(self.records),
            checking=self.checking,
            show_prereleases=self.show_prereleases,
            disk_total=self.disk.total_bytes if self.disk and self.disk.versions else 0,
        )
        status.show(text)
        status.set_class(warn, "-warning")
        self.refresh_bindings()

    # --- installs -----------------------------------------------------------------------
    @property
    def installs(self) -> InstallPanels:
        return self.query_one(InstallPanels)

    def selected(self) -> VersionRow | None:
        table = self.query_one(VersionTable)
        tag = table.selected_tag
        return table.rows_by_tag.get(tag) if tag else None

"""Versions screen: every ComfyUI release and installed version; install, remove, default.

The release list is shown from the cache at once and refreshed in a background worker (never
blocking the app); installed/default/running markers come from the version records and the
`running_versions` source. Update, rollback, audit and remove's guard are in `versions_more.py`.
Installs are App-owned jobs (`JobKind.INSTALL`), so they survive mode
switches; this screen follows them through `app.job_updates`, one `InstallPanel` each.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.reactive import reactive
from textual.widgets import DataTable, Input

from comfy_tui.core.size_estimate import SizeEstimate
from comfy_tui.errors import ComfyTuiError
from comfy_tui.events import Event
from comfy_tui.runner import JobKey, JobKind, JobUpdate
from comfy_tui.services.disk_usage import DiskReport
from comfy_tui.services.release_list import ReleaseList
from comfy_tui.store.install_choices import InstallChoices
from comfy_tui.store.version_records import VersionRecord
from comfy_tui.ui.screens import versions_more as more
from comfy_tui.ui.screens.base import ModeScreen
from comfy_tui.ui.screens.versions_keys import VERSIONS_KEYS
from comfy_tui.ui.version_rows import VersionRow, build_rows, empty_text, status_line
from comfy_tui.ui.widgets.card import Line
from comfy_tui.ui.widgets.empty_state import EmptyState
from comfy_tui.ui.widgets.install_panel import InstallPanels
from comfy_tui.ui.widgets.version_table import VersionTable

if TYPE_CHECKING:  # the install and details dialogs are imported when first opened
    from comfy_tui.store.instance_records import InstanceRecord
    from comfy_tui.ui.dialogs.install import InstallRequest

log = logging.getLogger(__name__)

RUNNING_POLL_S = 5.0
RESOLVE_LIMIT = 8
"""Dependency sets the screen sizes with uv per load (the newest releases first)."""


class VersionsScreen(ModeScreen):
    """Mode 1."""

    MODE_TITLE = "Versions"
    AUTO_FOCUS = "#versions-table"
    KEYS = VERSIONS_KEYS

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

    def on_mount(self) -> None:
        self.comfy_app.job_updates.subscribe(self, self._on_job_update)
        self.render_rows()
        # After the first frame: the release service loads aiohttp.
        self.call_after_refresh(self.load, refresh=False)
        self.every(RUNNING_POLL_S, self._poll_running)

    def on_screen_resume(self) -> None:
        if self._loaded:  # the first show reads after the first frame (`load`)
            self._reload_local()

    def on_state_changed(self, areas: frozenset[str]) -> None:
        if areas & {"versions", "instances"}:
            self._reload_local()

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

    def start_install(
        self,
        tag: str,
        torch: str = "auto",
        *,
        torch_index: str = "",
        python: str = "",
        ref: bool = False,
        name: str = "",
        force: bool = False,
    ) -> None:
        """Start the install of `tag` as an App job and show its panel. With `ref`, `tag` is a
        branch, tag or commit (`comfy-tui install REF [--name NAME]`, services.lifecycle)."""
        versions = self.comfy_app.services.versions
        events: Callable[[], AsyncIterator[Event]]
        if ref:
            try:
                job = self.comfy_app.services.lifecycle.install(
                    tag,
                    name=name or None,
                    torch=torch,
                    torch_index=torch_index or None,
                    python=python or None,
                    force=force,
                )
            except ComfyTuiError as exc:
                self.show_error(f"Install {tag}", exc)
                return
            events = job.events
        else:

            def events() -> AsyncIterator[Event]:
                return versions.install(
                    tag, torch, torch_index=torch_index or None, python=python or None, force=force
                )

        self.installs.add(tag, torch)
        self.refresh_bindings()
        self.comfy_app.start_job(JobKey(JobKind.INSTALL, tag), f"install {tag}", events)
        self.render_rows()

    @work(group="versions:ask-install", exit_on_error=False)
    async def ask_install(self, tag: str, *, ref: bool = False, name: str = "") -> None:
        """The install dialog for `tag` (a release; with `ref`, any branch, tag or commit,
        installed as `name`); starts the install it answers with."""
        from comfy_tui.ui.dialogs.install import InstallScreen

        versions = self.comfy_app.services.versions
        detected = await versions.detected_torch()
        remembered = await versions.install_choices()
        settings = self.comfy_app.services.settings
        choices = remembered or InstallChoices(python=settings.python)
        dialog = InstallScreen(
            tag, detected=detected, choices=choices, index_setting=settings.torch_index_url
        )

        async def answered(request: InstallRequest | None) -> None:
            if request is None:
                return
            await versions.remember_install_choices(request.choices)
            self.start_install(
                request.tag,
                request.torch,
                torch_index=request.torch_index,
                python=request.python,
                ref=ref,
                name=name,
                force=request.force,
            )

        await self.app.push_screen(dialog, answered)

    def _on_job_update(self, update: JobUpdate) -> None:
        followed = self.installs.follow(update)
        if followed is None:
            return
        tag, state = followed
        if state == "running":
            row = next((r for r in self.rows() if r.tag == tag), None)
            if row is not None:
                self.query_one(VersionTable).update_row(row)
            return
        self.refresh_bindings()
        if state == "finished":
            self.notify(f"ComfyUI {tag} is installed", title="Install")
        elif state == "cancelled":
            self.notify(f"The install of {tag} was cancelled; nothing was kept", title="Install")
        self._reload_local()

    # --- actions ------------------------------------------------------------------------
    def selected(self) -> VersionRow | None:
        table = self.query_one(VersionTable)
        tag = table.selected_tag
        return table.rows_by_tag.get(tag) if tag else None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_install":
            return bool(self.installs.panels)
        if action == "details":
            return bool(self.query_one(VersionTable).rows_by_tag)
        if action == "clear_filter":
            return self.query_one("#versions-filter", Input).display
        return True

    def action_install(self) -> None:
        row = self.selected()
        if row is None:
            self.notify("Select a release to install first", severity="warning")
        elif row.installed:
            self.notify(f"{row.tag} is already installed", severity="warning")
        elif row.tag in self.installs.panels:
            self.notify(f"{row.tag} is being installed", severity="warning")
        else:
            self.ask_install(row.tag)

    def action_cancel_install(self) -> None:
        row = self.selected()
        panels = self.installs.panels
        if row is not None and row.tag in panels:
            tag = row.tag
        elif len(panels) == 1:
            tag = next(iter(panels))
        else:
            self.notify("Select the version whose install you want to cancel", severity="warning")
            return
        self.comfy_app.cancel_job(JobKey(JobKind.INSTALL, tag))

    def action_remove(self) -> None:
        row = more.installed_row(self, "remove")
        if row is None:
            return
        size = f" ({row.size})" if row.size else ""
        question = f"Remove ComfyUI {row.tag}? Its folder{size} is deleted; the shared models stay."
        record = next((r for r in self.records if r.tag == row.tag), None)
        if record is not None and record.adopted:
            question = f"Forget the adopted {row.tag}? Its folder {record.path} stays as it is."

        self._ask_remove(row.tag, question)

    @work(group="versions:remove", exit_on_error=False)
    async def _ask_remove(self, tag: str, question: str) -> None:
        """A live instance is named at once, in the one question: stop it and remove?"""

        def go() -> None:
            self._change(tag, "remove")

        await more.ask(self, tag, "remove", question, "Remove", go)

    @work(exit_on_error=False)
    async def ask_first(
        self, tag: str, doing: str, question: str, yes: str, go: Callable[[], None]
    ) -> None:
        """`versions_more.ask` in a worker (update's question, after its ref dialog)."""
        await more.ask(self, tag, doing, question, yes, go)

    @work(group="versions:stop-first", exit_on_error=False)
    async def stop_first(
        self, tag: str, live: Sequence[InstanceRecord], go: Callable[[], None]
    ) -> None:
        """The question's "stop and ...": stop `tag`'s live instances, then `go`."""
        await more.stop_then(self, tag, live, go)

    @work(group="versions:estimate", exclusive=True, exit_on_error=False)
    async def estimate_size(self, tag: str) -> None:
        await more.estimate_now(self, tag)

    def action_update(self) -> None:
        more.update(self)

    async def action_rollback(self) -> None:
        await more.rollback(self)

    async def action_audit(self) -> None:
        await more.audit(self)

    async def action_share_node(self) -> None:
        await more.share_own_node(self)

    def action_estimate(self) -> None:
        more.estimate(self)

    def action_install_ref(self) -> None:
        more.install_ref(self)

    def action_toggle_default(self) -> None:
        row = self.selected()
        if row is None or not row.installed:
            self.notify("Select an installed version to make it the default", severity="warning")
            return
        self._change(row.tag, "clear" if row.default else "default")

    @work(group="versions:change", exit_on_error=False)
    async def _change(self, tag: str, what: str) -> None:
        versions = self.comfy_app.services.versions
        try:
            if what == "remove":
                await versions.remove(tag)
                self.notify(f"ComfyUI {tag} was removed", title="Remove")
            else:
                await versions.set_default(tag if what == "default" else None)
        except ComfyTuiError as exc:
            self.show_error(f"{what.capitalize()} {tag} failed", exc)
        self._reload_local()

    def action_adopt(self) -> None:
        """The adopt dialog; its nodes are shared as `NODE_SHARE` jobs."""
        from comfy_tui.services.adopt_nodes import list_own_nodes
        from comfy_tui.ui.dialogs.adopt import AdoptScreen

        services = self.comfy_app.services

        def share(tag: str, name: str) -> None:
            more.share(self, tag, name)

        def closed(tag: str | None) -> None:  # the screen reloads its versions on resume
            if tag:
                self.notify(f"{tag} is adopted: launch it like any version", title="Adopt")

        dialog = AdoptScreen(
            adopt=lambda path, name, venv: services.versions.adopt(path, name=name, venv=venv),
            nodes=lambda tag: list_own_nodes(services.paths, tag),
            share=share,
        )
        self.app.push_screen(dialog, closed)

    def action_upgrade(self) -> None:
        """The upgrade dialog for the selected installed version (services.lifecycle)."""
        from comfy_tui.ui.dialogs.upgrade import UpgradeScreen

        row = self.selected()
        if row is None or not row.installed:
            self.notify("Select an installed version to upgrade", severity="warning")
            return
        life = self.comfy_app.services.lifecycle
        dialog = UpgradeScreen(
            row.tag,
            suggested=self._suggest_upgrade(row.tag),
            running=self.running.get(row.tag, 0),
            make=life.upgrade,
            switch=life.switch,
        )

        def closed(switched: bool | None) -> None:  # the screen reloads its versions on resume
            if switched:
                self.notify(f"{row.tag}'s instances were switched", title="Upgrade")

        self.app.push_screen(dialog, closed)

    def _suggest_upgrade(self, tag: str) -> str:
        """The newest release newer than `tag` (installed or not), else ""."""
        from comfy_tui.core.versions import parse_version

        mine = parse_version(tag)
        if mine is None:
            return ""
        newer = [
            (version, row.tag)
            for row in self.rows()
            if (version := parse_version(row.tag)) is not None
            and version > mine
            and not version.is_prerelease
        ]
        return max(newer)[1] if newer else ""

    def action_refresh(self) -> None:
        self.load(refresh=True)

    def action_toggle_prereleases(self) -> None:
        self.show_prereleases = not self.show_prereleases

    @work(group="versions:details", exit_on_error=False)
    async def action_details(self) -> None:
        row = self.selected()
        if row is None:
            return
        from comfy_tui.ui.dialogs.version_details import (
            VersionDetailsScreen,
            detail_lines,
            read_tail,
        )

        record = next((r for r in self.records if r.tag == row.tag), None)
        release = self.listed.find(row.tag) if self.listed else None
        versions = self.comfy_app.services.versions

        def read_log() -> list[str]:
            try:
                return read_tail(versions.install_log(row.tag))
            except (NotImplementedError, ComfyTuiError):
                return []

        log_lines = await asyncio.to_thread(read_log)
        lines = detail_lines(row.tag, record, release, row.default, self.estimates.get(row.tag))
        if record is not None:  # what it tracks, and what the mirror has that it lacks
            newer = await self.comfy_app.services.lifecycle.newer_releases(record)
            if record.ref and record.ref != record.tag:
                lines.append(("Tracks", f"{record.ref} (comfy-tui update {record.tag})"))
            if newer:
                lines.append(("Newer", f"{', '.join(newer[:5])} in the mirror (u: upgrade)"))
        await self.app.push_screen(VersionDetailsScreen(row.tag, lines, log_lines))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_details()

    def action_filter(self) -> None:
        box = self.query_one("#versions-filter", Input)
        box.display = True
        box.focus()
        self.refresh_bindings()

    def action_clear_filter(self) -> None:
        box = self.query_one("#versions-filter", Input)
        box.value = ""
        box.display = False
        self.query_text = ""
        self.query_one(VersionTable).focus()
        self.refresh_bindings()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one(VersionTable).focus()

"""Versions screen (mode 1): every ComfyUI release and installed version, and its keys.

Built in layers, one job each: `versions_data.py` (what it shows: widgets, loading workers,
drawing), `versions_installs.py` (installs as App jobs and their panels), and here the other
keys: remove, default, adopt, upgrade, details, the filter. Update, rollback, audit, share and
remove's guard are in `versions_more.py`, the key table in `versions_keys.py`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from textual import work
from textual.widgets import DataTable, Input

from comfy_tui.errors import ComfyTuiError
from comfy_tui.ui.screens import versions_more as more
from comfy_tui.ui.screens.versions_data import RUNNING_POLL_S
from comfy_tui.ui.screens.versions_installs import VersionInstalls
from comfy_tui.ui.screens.versions_keys import VERSIONS_KEYS
from comfy_tui.ui.widgets.version_table import VersionTable

if TYPE_CHECKING:
    from comfy_tui.store.instance_records import InstanceRecord


class VersionsScreen(VersionInstalls):
    """Mode 1."""

    MODE_TITLE = "Versions"
    AUTO_FOCUS = "#versions-table"
    KEYS = VERSIONS_KEYS

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

    # --- actions ------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_install":
            return bool(self.installs.panels)
        if action == "details":
            return bool(self.query_one(VersionTable).rows_by_tag)
        if action == "clear_filter":
            return self.query_one("#versions-filter", Input).display
        return True

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

"""The upgrade dialog (`u` on the Versions screen): rehearse FROM -> TO, then maybe switch.

A form asks for TO (an installed version, or a tag / branch / commit to install; the newest
newer release is offered) and the CLI's two consents as checkboxes (`--build-from-source`,
`--allow-direct-refs`, given to the node plans); enter starts the rehearsal
(services/lifecycle/rehearsal.py). When enabling FROM's nodes in TO changes packages, the
changes are shown and `y` installs them, `n` rehearses without them (those nodes are then "not
enabled"). The result is a table, one row per node: loaded / import failed / missing dependency
/ not enabled, with the error line. Only when every node loaded does `s` offer the switch (a
confirmation, then FROM's running instances move to TO one at a time and TO becomes the
default). Escape closes (and stops a rehearsal that still runs). The work is done by the
callables it is given.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, DataTable, Input, Label

from comfy_tui.errors import ComfyTuiError
from comfy_tui.events import Event, Finished, LogLine, Progress
from comfy_tui.runner import JobKey, JobKind, JobUpdate, run_job
from comfy_tui.ui.dialogs import VERSION_DIALOG_CSS
from comfy_tui.ui.dialogs.confirm import ConfirmScreen

if TYPE_CHECKING:
    from comfy_tui.services.lifecycle.rehearsal import NodePlan, Rehearsal, Upgrade

__all__ = ["UpgradeScreen"]

MakeUpgrade = Callable[[str, str], "Upgrade"]
Switch = Callable[["Upgrade"], AsyncGenerator[Event, None]]


class UpgradeScreen(ModalScreen[bool]):
    """`make(FROM, TO)` builds the rehearsal; `switch(upgrade)` moves the instances.
    Dismisses with True when a switch happened."""

    CSS_PATH = VERSION_DIALOG_CSS

    BINDINGS = [
        Binding("escape", "close", "Close", id="upgrade-close"),
        Binding("y", "agree", "Install packages", id="upgrade-agree"),
        Binding("n", "skip", "Skip packages", id="upgrade-skip"),
        Binding("s", "switch", "Switch", id="upgrade-switch"),
    ]
    AUTO_FOCUS = "#upgrade-to"

    def __init__(
        self, source: str, *, suggested: str, running: int, make: MakeUpgrade, switch: Switch
    ) -> None:
        super().__init__()
        self.source = source
        self.suggested = suggested
        self.running = running
        self._make = make
        self._switch = switch
        self.upgrade: Upgrade | None = None
        self.state = "form"  # form, running, consent, result, switching, switched
        self._consent: asyncio.Future[bool] | None = None
        self._allow_builds = False
        self._allow_direct_refs = False
        self.switched = False

    def compose(self) -> ComposeResult:
        with Vertical(id="upgrade-box"):
            yield Label(f"Upgrade {self.source}", id="upgrade-title", markup=False)
            with Vertical(id="upgrade-form"):
                yield Label(
                    f"TO is installed beside {self.source} if needed, its custom nodes are "
                    "enabled there at the same commits and loaded once; nothing running is "
                    "touched.",
                    id="upgrade-intro",
                    markup=False,
                )
                with Horizontal(id="upgrade-row"):
                    yield Label("To", id="upgrade-label")
                    yield Input(
                        value=self.suggested,
                        placeholder="v0.4.0, master or a commit",
                        compact=True,
                        id="upgrade-to",
                    )
                yield Checkbox(
                    "Allow building packages from source (--build-from-source)",
                    compact=True,
                    id="upgrade-builds",
                )
                yield Checkbox(
                    "Allow git and URL requirements (--allow-direct-refs)",
                    compact=True,
                    id="upgrade-direct-refs",
                )
            yield Label("", id="upgrade-status", markup=False)
            yield DataTable(id="upgrade-nodes", cursor_type="row", zebra_stripes=False)
            yield Label("", id="upgrade-hint", markup=False)

    def on_mount(self) -> None:
        table = self.query_one("#upgrade-nodes", DataTable)
        for key, label in (("name", "Node"), ("commit", "Commit"), ("status", "Result"),
                           ("error", "Error")):  # fmt: skip
            table.add_column(label, key=key)
        table.display = False
        self._hint("enter in To: rehearse · tab, space: tick a consent · escape: close")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("agree", "skip"):
            return self.state == "consent"
        if action == "switch":
            return self.state == "result"
        return True

    # --- helpers --------------------------------------------------------------------------
    def _status(self, text: str) -> None:
        self.query_one("#upgrade-status", Label).update(text)

    def _hint(self, text: str) -> None:
        self.query_one("#upgrade-hint", Label).update(text)

    def _set_state(self, state: str) -> None:
        self.state = state
        self.refresh_bindings()

    async def _show(self, key: JobKey, events: AsyncGenerator[Event, None]) -> None:
        """Run one step of the upgrade through the one runner, its events as the status line."""
        await run_job(key, f"upgrade {self.source}", events, self._show_update)

    def _show_update(self, update: JobUpdate) -> None:
        event = update.event
        if isinstance(event, Progress) and event.detail:
            self._status(f"{event.step}: {event.detail}")
        elif isinstance(event, LogLine) and not event.text.startswith("$ "):
            self._status(event.text[:300])
        elif isinstance(event, Finished):
            self._status(event.detail)

    # --- the rehearsal --------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.state != "form":
            return
        target = event.value.strip()
        if not target:
            self._status("Type the version, tag, branch or commit to upgrade to.")
            return
        try:
            self.upgrade = self._make(self.source, target)
        except ComfyTuiError as exc:
            self._status(str(exc))
            return
        self._allow_builds = self.query_one("#upgrade-builds", Checkbox).value
        self._allow_direct_refs = self.query_one("#upgrade-direct-refs", Checkbox).value
        self.query_one("#upgrade-form").display = False
        self.query_one("#upgrade-title", Label).update(f"Upgrade {self.source} -> {target}")
        self._set_state("running")
        self._hint("escape: stop and close")
        self._rehearse(self.upgrade)

    @work(group="upgrade", exclusive=True)
    async def _rehearse(self, upgrade: Upgrade) -> None:
        try:
            key = JobKey(JobKind.UPGRADE, upgrade.target)
            await self._show(key, upgrade.prepare())
            self._status(f"planning {self.source}'s custom nodes in {upgrade.target}")
            plans = await upgrade.plans(
                allow_direct_refs=self._allow_direct_refs, allow_builds=self._allow_builds
            )
            agreed = await self._agree(plans, upgrade.target)
            await self._show(key, upgrade.apply(plans, agreed=agreed))
            await self._show(key, upgrade.check())
        except ComfyTuiError as exc:
            self._status(f"The rehearsal failed: {exc}")
            self._hint("escape: close")
            self._set_state("failed")
            return
        self.show_report(upgrade.report)

    async def _agree(self, plans: list[NodePlan], target: str) -> bool:
        lines = []
        for item in plans:
            if item.plan is not None and item.plan.changes and not item.plan.blocked:
                lines += [f"{item.name}: {c.describe()}" for c in item.plan.changes]
        if not lines:
            return False
        shown = "\n".join(lines[:8]) + (f"\n… {len(lines) - 8} more" if len(lines) > 8 else "")
        self._status(f"Enabling the nodes in {target} changes these packages:\n{shown}")
        self._hint("y: install them (torch stays pinned) · n: rehearse without them")
        self._consent = asyncio.get_running_loop().create_future()
        self._set_state("consent")
        try:
            return await self._consent
        finally:
            self._consent = None
            self._set_state("running")
            self._hint("escape: stop and close")

    def action_agree(self) -> None:
        if self._consent is not None and not self._consent.done():
            self._consent.set_result(True)

    def action_skip(self) -> None:
        if self._consent is not None and not self._consent.done():
            self._consent.set_result(False)

    def show_report(self, report: Rehearsal) -> None:
        """The per-node table and what can be done next (also used by snapshot tests)."""
        self.query_one("#upgrade-form").display = False
        self.query_one("#upgrade-title", Label).update(
            f"Upgrade {report.source} -> {report.target}"
        )
        table = self.query_one("#upgrade-nodes", DataTable)
        table.clear()
        for node in report.nodes:
            error = node.error if not node.ok else ""
            table.add_row(node.name, node.commit[:7] or "?", node.status, error, key=node.name)
        table.display = bool(report.nodes)
        loaded = sum(1 for n in report.nodes if n.ok)
        made = " (installed now)" if report.installed_target else ""
        text = (
            f"{report.target}{made}: {loaded} of {len(report.nodes)} custom node(s) loaded "
            f"({report.checked or 'not checked'})"
        )
        if not report.nodes:
            text = f"{report.target}{made}: {report.source} enables no shared custom nodes"
        if report.own_nodes:
            text += f"\n{report.source}'s own nodes are not carried: {', '.join(report.own_nodes)}"
        self._status(text)
        if report.ok:
            self._hint(
                f"s: make {report.target} the default and move {self.running} running "
                f"instance(s) of {report.source} to it, one at a time · escape: close"
            )
        else:
            self._hint("a node did not load: fix it before switching · escape: close")
        self._set_state("result" if report.ok else "refused")

    # --- the switch -----------------------------------------------------------------------
    def action_switch(self) -> None:
        upgrade = self.upgrade
        if self.state != "result" or upgrade is None:
            return
        report = upgrade.report
        question = (
            f"Make {report.target} the default and restart the {self.running} running "
            f"instance(s) of {report.source} on it (same ports, GPUs, flags), one at a time?"
        )

        def answered(yes: bool | None) -> None:
            if yes:
                self._set_state("switching")
                self._hint("switching…")
                self._do_switch(upgrade)

        self.app.push_screen(ConfirmScreen(question, yes="Switch", no="Not now"), answered)

    @work(group="upgrade", exclusive=True)
    async def _do_switch(self, upgrade: Upgrade) -> None:
        try:
            await self._show(JobKey(JobKind.SWITCH, self.source), self._switch(upgrade))
        except ComfyTuiError as exc:
            self._status(str(exc))
            self._hint("escape: close")
            self._set_state("failed")
            return
        self.switched = True
        self._hint("escape: close")
        self._set_state("switched")

    def action_close(self) -> None:
        for worker in self.workers:
            worker.cancel()
        self.dismiss(self.switched)

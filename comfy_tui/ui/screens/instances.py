"""Instances screen (mode 4): every launched ComfyUI, its state and numbers; launch, stop,
restart, the log view, and (`instances_more.py`) free, run, outputs, stop all and up.

The table is refreshed every `poll_interval` seconds while the screen shows (reattach, health,
queue, CPU, RAM come from `InstancesService.refresh`, in a worker), and at once when a run
record changes (a launch or stop in another shell: `app.state`). A launch from here selects
the instance it started. Launch, stop and restart
run as App-owned jobs, so they finish even if the user switches screens; failures open the
App's error dialog.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from pathlib import Path

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Label, Static

from comfy_tui.events import Event, Finished, LogLine, Progress
from comfy_tui.runner import INSTANCE_JOBS, JobKey, JobKind, JobUpdate
from comfy_tui.services.instances.launch import LaunchRequest
from comfy_tui.services.instances.service import InstancesService
from comfy_tui.services.instances.views import InstanceView
from comfy_tui.services.jobs.state import JobEvent, JobState
from comfy_tui.store.version_records import get_default, list_records
from comfy_tui.ui.dialogs.confirm import ConfirmScreen
from comfy_tui.ui.dialogs.launch import LaunchScreen
from comfy_tui.ui.keys import Key
from comfy_tui.ui.screens import instances_more as more
from comfy_tui.ui.screens.base import ModeScreen
from comfy_tui.ui.screens.instance_log import InstanceLogScreen
from comfy_tui.ui.screens.instances_rows import COLUMNS, detail_text, job_cell, order, row_cells
from comfy_tui.ui.widgets.empty_state import EmptyState

_launches = itertools.count(1)


class InstancesScreen(ModeScreen):
    """Mode 4."""

    MODE_TITLE = "Instances"
    AUTO_FOCUS = "#instances-table"
    KEYS = (
        Key(
            "instances-launch", "l", "launch", "Launch", "Launch ComfyUI: version, port, GPU, flags"
        ),
        Key("instances-stop", "x", "stop", "Stop", "Stop the selected instance (asks first)"),
        Key(
            "instances-restart",
            "R",
            "restart",
            "Restart",
            "Stop and start the selected instance with the same settings",
        ),
        Key("instances-log", "o", "open_log", "Log", "Open the selected instance's log (or enter)"),
        *more.MORE_KEYS,
    )

    def __init__(self) -> None:
        super().__init__()
        self.views: list[InstanceView] = []
        self.status = ""
        self._refreshing = False
        self._select_new = False
        self._again = False

    @property
    def instances(self) -> InstancesService:
        return self.comfy_app.services.instances

    def compose_body(self) -> ComposeResult:
        yield DataTable(id="instances-table", cursor_type="row")
        yield EmptyState(
            "No instances yet — press l to launch ComfyUI (it keeps running after you quit)",
            id="instances-empty",
        )
        yield Static("", id="instances-detail")
        yield Label("", id="instances-status", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        self.show([])
        self.comfy_app.job_updates.subscribe(self, self._on_job_update)
        self._unsubscribe_jobs = self.comfy_app.services.jobs.subscribe(self._on_job_event)
        self.refresh_now()
        self.every(self.comfy_app.services.settings.poll_interval, self._tick)

    def on_screen_resume(self) -> None:
        self.refresh_now()

    def on_state_changed(self, areas: frozenset[str]) -> None:
        if "instances" in areas:
            self.refresh_now()

    def on_unmount(self) -> None:
        self._unsubscribe_jobs()

    def job_of(self, view: InstanceView) -> JobState | None:
        return self.comfy_app.services.jobs.state(view.id)

    def _on_job_event(self, event: JobEvent) -> None:
        """A job moved: redraw that instance's job cell (and the detail when it is selected)."""
        if event.kind == "queue" and not self.is_current:
            return
        view = next((v for v in self.views if v.id == event.instance), None)
        table: DataTable[str | Text] = self.query_one(DataTable)
        if view is None or event.instance not in {str(k.value) for k in table.rows}:
            return
        table.update_cell(view.id, "job", job_cell(view, self.job_of(view)))
        selected = self.selected()
        if selected is not None and selected.id == view.id:
            self._show_detail()

    # --- refreshing --------------------------------------------------------------------------
    def _tick(self) -> None:
        # only live instances change by themselves (CPU, RAM, health, uptime); a launch, a
        # stop or a record change refreshes at once, and so does showing the screen again
        if self.is_current and any(v.record.live for v in self.views):
            self.refresh_now()

    def refresh_now(self) -> None:
        """Refresh in a worker; asked again while one runs, it runs once more after it."""
        if self._refreshing:
            self._again = True
            return
        self._refreshing = True
        self._refresh()

    @work(group="instances:refresh", exit_on_error=False)
    async def _refresh(self) -> None:
        try:
            while True:
                self._again = False
                self.show(await self.instances.refresh())
                if not self._again:
                    return
        finally:
            self._refreshing = False

    def show(self, views: list[InstanceView]) -> None:
        """Put `views` in the table, keeping the cursor on the same instance."""
        self.views = order(views)
        table: DataTable[str | Text] = self.query_one(DataTable)
        selected = self.selected()
        ids = [v.id for v in self.views]
        if ids == [str(k.value) for k in table.rows]:
            for view in self.views:
                for (key, _), cell in zip(COLUMNS, row_cells(view, self.job_of(view)), strict=True):
                    # the column widens for a longer state ("starting"), never cuts it
                    table.update_cell(view.id, key, cell, update_width=True)
        else:
            known = {str(k.value) for k in table.rows}
            table.clear()
            for view in self.views:
                table.add_row(*row_cells(view, self.job_of(view)), key=view.id)
            new = [i for i in ids if i not in known]
            if self._select_new and new:  # a launch from here: select what it started
                self._select_new = False
                table.move_cursor(row=ids.index(new[0]))
            elif selected is not None and selected.id in ids:
                table.move_cursor(row=ids.index(selected.id))
        empty = not self.views
        table.display = not empty
        self.query_one("#instances-empty").display = empty
        self.query_one("#instances-detail").display = not empty
        self._show_detail()

    def selected(self) -> InstanceView | None:
        table: DataTable[str | Text] = self.query_one(DataTable)
        if not self.views or table.row_count == 0:
            return None
        row = min(table.cursor_row, table.row_count - 1)
        key = table.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value
        return next((v for v in self.views if v.id == key), None)

    def _show_detail(self) -> None:
        view = self.selected()
        detail = self.query_one("#instances-detail", Static)
        detail.update(detail_text(view, self.job_of(view)) if view else "")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    async def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        await self.action_open_log()

    # --- jobs --------------------------------------------------------------------------------
    def _on_job_update(self, update: JobUpdate) -> None:
        if update.key.kind not in INSTANCE_JOBS:
            return
        event = update.event
        if isinstance(event, Progress):
            text = f"{update.description}: {event.step} {event.detail}".rstrip()
        elif isinstance(event, Finished):
            text = event.detail
        elif isinstance(event, LogLine) and event.text.startswith(("started ", "stopped ")):
            text = f"{update.description}: {event.text}"
        elif isinstance(event, LogLine) and event.text.startswith("port "):
            # a restart whose port is taken now: said where it runs instead (and it stays
            # in the table's port column, from the run record)
            text = f"{update.description}: {event.text}"
            self.notify(event.text, title="Another port", severity="warning", markup=False)
        elif event is None:
            text = f"{update.description}: {update.state}"
            if update.key.kind is JobKind.LAUNCH:
                self._select_new = False  # failed or cancelled: nothing new to select
        else:
            return
        self.status = text
        self.query_one("#instances-status", Label).update(text)
        if not isinstance(event, Progress):
            self.refresh_now()

    # --- actions -----------------------------------------------------------------------------
    async def _select(self, instance_id: str | None) -> None:
        """Put the cursor on `instance_id` (a palette command names one), reading the
        instances first when this screen has not shown it yet."""
        if instance_id is None:
            return
        if instance_id not in [v.id for v in self.views]:
            self.show(await self.instances.refresh())
        ids = [v.id for v in self.views]
        if instance_id in ids:
            self.query_one(DataTable).move_cursor(row=ids.index(instance_id))

    async def action_launch(self, version: str | None = None) -> None:
        """The launch dialog; `version` (from the palette) is chosen in it."""
        paths = self.comfy_app.services.paths
        versions = await asyncio.to_thread(list_records, paths)
        if not versions:
            self.notify(
                "No version is installed yet: install one on the Versions screen (1).",
                severity="warning",
            )
            return
        default = version or await asyncio.to_thread(get_default, paths)
        settings = self.comfy_app.services.settings
        dialog = LaunchScreen(
            versions,
            default=default,
            gpu_count=await self.instances.gpu_count(),
            listen=settings.listen,
            base_port=settings.base_port,
        )
        self.app.push_screen(dialog, self._launch)

    def _launch(self, request: LaunchRequest | None) -> None:
        if request is None:
            return
        key = JobKey(JobKind.LAUNCH, str(next(_launches)))
        self._select_new = True
        self.comfy_app.start_job(
            key, f"launch {request.version}", lambda: self.instances.launch(request)
        )

    async def action_stop(self, instance_id: str | None = None) -> None:
        await self._select(instance_id)
        view = self.selected()
        if view is None:
            return
        if not view.record.live:
            self.notify(f"{view.id} is not running ({view.state}).")
            return
        question = f"Stop {view.id} (ComfyUI {view.record.version} on port {view.record.port})?"
        dialog = ConfirmScreen(
            question, yes="Stop", no="Keep", option=more.KEEP_WANTED if view.record.wanted else None
        )

        def answered(yes: bool | None) -> None:
            if yes:
                keep = dialog.option_checked
                self.comfy_app.start_job(
                    JobKey(JobKind.STOP, view.id),
                    f"stop {view.id}",
                    lambda: self.stop_events(view.id, keep_wanted=keep),
                )

        self.app.push_screen(dialog, answered)

    async def stop_events(
        self, instance_id: str, *, keep_wanted: bool = False
    ) -> AsyncIterator[Event]:
        """Stop one instance (`stop ID [--keep-wanted]`), its steps as events."""
        yield LogLine(f"stopping {instance_id}", source=instance_id)
        report = await self.instances.stop_report(instance_id, keep_wanted=keep_wanted)
        final = report.record
        if report.killed:
            yield LogLine(f"killed what was left: {', '.join(report.killed)}", source=instance_id)
        yield Finished(f"{instance_id} {final.state}: {final.reason or 'stopped'}")

    def action_restart(self) -> None:
        view = self.selected()
        if view is None:
            return

        def go(yes: bool | None = True) -> None:
            if yes:
                self.comfy_app.start_job(
                    JobKey(JobKind.RESTART, view.id),
                    f"restart {view.id}",
                    lambda: self.instances.restart(view.id),
                )

        if not view.record.live:
            go()
            return
        question = f"Restart {view.id}? ComfyUI stops (work in progress is lost) and starts again."
        self.app.push_screen(ConfirmScreen(question, yes="Restart", no="Keep"), go)

    async def action_open_log(self, instance_id: str | None = None) -> None:
        await self._select(instance_id)
        view = self.selected()
        if view is not None:
            self.app.push_screen(InstanceLogScreen(view.record))

    # --- the CLI's other instance commands (instances_more.py) -------------------------------
    async def action_free(self) -> None:
        await more.free(self)

    def action_run_workflow(self) -> None:
        more.run_workflow(self)

    def action_outputs(self) -> None:
        more.outputs(self)

    async def action_stop_all(self) -> None:
        await more.stop_all(self)

    async def action_stop_version(self, version: str) -> None:
        await more.stop_all(self, version)

    def action_up(self) -> None:
        more.up(self)

    @work(exit_on_error=False)
    async def queue_workflow(self, view: InstanceView, path: Path) -> None:
        await more.queue_workflow(self, view, path)

    @work(exit_on_error=False)
    async def copy_outputs(self, view: InstanceView, prompt_id: str, to: Path) -> None:
        await more.copy_outputs(self, view, prompt_id, to)

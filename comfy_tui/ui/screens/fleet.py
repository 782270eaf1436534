"""Fleet screen (mode 6): one row per configured host, and actions run on the host over SSH.

Rows are refreshed every few seconds while the screen shows; each host's row changes as soon
as that host answers (a down or slow host is a row saying so, never a wait for the others).
Launch, stop, install, logs and the port forward act on the selected host through the same
dialogs as local; bulk actions (`b`) run on every host with a tag and report each host.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Label, Static

from comfy_tui import __version__
from comfy_tui.core.fleet_hosts import HostSpec
from comfy_tui.core.safe_text import escape_text
from comfy_tui.events import Event, Finished, LogLine
from comfy_tui.runner import JobKey, JobKind, JobUpdate
from comfy_tui.services.downloads.data import DownloadRequest
from comfy_tui.services.downloads.hf import RepoEntry
from comfy_tui.services.fleet.service import Fleet, HostResult
from comfy_tui.services.fleet.state import HostState, RemoteInstance, checking
from comfy_tui.services.instances.launch import LaunchRequest
from comfy_tui.ui.dialogs.add_download import AddDownloadScreen
from comfy_tui.ui.dialogs.confirm import ConfirmScreen
from comfy_tui.ui.dialogs.launch import LaunchScreen
from comfy_tui.ui.dialogs.pick import PickScreen
from comfy_tui.ui.dialogs.text_input import TextInputScreen
from comfy_tui.ui.keys import Key
from comfy_tui.ui.screens.base import ModeScreen
from comfy_tui.ui.screens.fleet_log import FleetLogScreen
from comfy_tui.ui.widgets.empty_state import EmptyState

REFRESH_S = 5.0
COLUMNS = (
    ("host", "HOST"),
    ("state", "STATE"),
    ("gpus", "GPUS"),
    ("disk", "DISK FREE"),
    ("instances", "INSTANCES"),
)
_STATE_STYLE = {"ok": "green", "checking": "dim", "slow": "yellow"}
_jobs = itertools.count(1)


def row_cells(state: HostState) -> list[str | Text]:
    style = _STATE_STYLE.get(state.state, "red")
    return [
        state.name,
        Text(state.state, style=style),
        state.gpus_text(),
        state.disk_text(),
        Text(escape_text(state.instances_text())),
    ]


def detail_text(state: HostState) -> str:
    lines = [f"{state.name}  {state.target}  tags: {', '.join(state.tags) or 'none'}"]
    if state.error:
        lines.append(escape_text(state.reason))
    if state.version:
        here = "" if state.version == __version__ else f" (here: {__version__})"
        lines.append(f"comfy-tui {state.version}{here}")
    for inst in state.instances:
        if inst.live:
            job = f"  {inst.job}" if inst.job else ""
            local = state.forwards.get(inst.port or 0)
            fwd = f"  → localhost:{local}" if local else ""
            lines.append(f"  {inst.id}  {inst.version} :{inst.port} {inst.state}{job}{fwd}")
    return "\n".join(lines)


class FleetScreen(ModeScreen):
    """Mode 6."""

    MODE_TITLE = "Fleet"
    AUTO_FOCUS = "#fleet-table"
    KEYS = (
        Key("fleet-launch", "l", "launch", "Launch", "Launch ComfyUI on the selected host"),
        Key("fleet-stop", "x", "stop", "Stop", "Stop an instance on the selected host (asks)"),
        Key("fleet-install", "i", "install", "Install", "Install a version on the selected host"),
        Key(
            "fleet-forward",
            "o",
            "forward",
            "Open",
            "Forward a local port to an instance on the selected host (prints the URL)",
        ),
        Key(
            "fleet-download",
            "d",
            "download",
            "Download",
            "Download a model into the selected host's library (same dialog as local)",
        ),
        Key("fleet-logs", "g", "logs", "Log", "Show an instance's log from the selected host"),
        Key(
            "fleet-bulk",
            "b",
            "bulk",
            "Bulk",
            "Install or stop on every host with a tag, each host reported",
        ),
        Key("fleet-refresh", "r", "refresh", "Refresh", "Ask every host again now"),
    )

    def __init__(self) -> None:
        super().__init__()
        self.states: dict[str, HostState] = {}
        self._asking: set[str] = set()

    @property
    def fleet(self) -> Fleet:
        return self.comfy_app.services.fleet

    def compose_body(self) -> ComposeResult:
        yield DataTable(id="fleet-table", cursor_type="row")
        yield EmptyState(
            "No hosts yet — add [[hosts]] tables to settings.toml (see docs/fleet.md)",
            id="fleet-empty",
        )
        yield Static("", id="fleet-detail", markup=False)
        yield Label("", id="fleet-status", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for key, label in COLUMNS:
            table.add_column(label, key=key)
        hosts = self.fleet.hosts
        for spec in hosts:
            self.states[spec.name] = checking(spec)
            table.add_row(*row_cells(self.states[spec.name]), key=spec.name)
        table.display = bool(hosts)
        self.query_one("#fleet-empty").display = not hosts
        self._show_detail()
        self.comfy_app.job_updates.subscribe(self, self._on_job_update)
        self.action_refresh()
        self.every(REFRESH_S, self._tick)

    def _tick(self) -> None:
        if self.is_current:
            self.action_refresh()

    # --- rows ----------------------------------------------------------------------------
    def action_refresh(self) -> None:
        """Ask every host that is not being asked already (a slow host holds only its row)."""
        for spec in self.fleet.hosts:
            if spec.name not in self._asking:
                self._asking.add(spec.name)
                self._refresh(spec)

    @work(group="fleet:refresh", exit_on_error=False)
    async def _refresh(self, spec: HostSpec) -> None:
        try:
            self.show(await self.fleet.status(spec))
        finally:
            self._asking.discard(spec.name)

    def show(self, state: HostState) -> None:
        self.states[state.name] = state
        table: DataTable[str | Text] = self.query_one(DataTable)
        for (key, _), cell in zip(COLUMNS, row_cells(state), strict=True):
            table.update_cell(state.name, key, cell, update_width=True)
        self._show_detail()

    def selected(self) -> HostState | None:
        table: DataTable[str | Text] = self.query_one(DataTable)
        if table.row_count == 0:
            return None
        row = min(table.cursor_row, table.row_count - 1)
        key = table.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value
        return self.states.get(str(key))

    def _show_detail(self) -> None:
        state = self.selected()
        self.query_one("#fleet-detail", Static).update(detail_text(state) if state else "")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def say(self, text: str) -> None:
        self.query_one("#fleet-status", Label).update(text)

    def _on_job_update(self, update: JobUpdate) -> None:
        if update.key.kind is not JobKind.FLEET:
            return
        event = update.event
        if isinstance(event, LogLine):
            self.say(f"{update.description}: {event.text}")
        elif isinstance(event, Finished):
            self.say(f"{update.description}: {event.detail}")
        elif event is None:
            self.say(f"{update.description}: {update.state}")
        if not isinstance(event, LogLine):
            self.action_refresh()

    def _reachable(self) -> HostState | None:
        state = self.selected()
        if state is None:
            return None
        if not state.reachable:
            self.notify(
                f"{state.name} is {state.state}: {state.error or 'no answer yet'}",
                severity="warning",
            )
            return None
        return state

    def _job(self, description: str, events: AsyncIterator[Event]) -> None:
        self.comfy_app.start_job(
            JobKey(JobKind.FLEET, str(next(_jobs))), description, lambda: events
        )

    # --- one host ------------------------------------------------------------------------
    async def action_launch(self) -> None:
        state = self._reachable()
        if state is None:
            return
        versions = await self.fleet.versions(state.name)
        if not versions:
            self.notify(f"No version is installed on {state.name}: press i to install one.")
            return
        dialog = LaunchScreen(
            versions,
            default=None,
            gpu_count=len(state.gpus),
            listen="127.0.0.1",
            base_port=8188,
        )
        host = state.name

        def launch(request: LaunchRequest | None) -> None:
            if request is not None:
                self._job(f"launch on {host}", self._launch_events(host, request))

        self.app.push_screen(dialog, launch)

    async def _launch_events(self, host: str, request: LaunchRequest) -> AsyncIterator[Event]:
        yield LogLine(f"launching {request.version or 'the default version'}", source=host)
        started = await self.fleet.launch(host, request)
        port = started.get("port") if isinstance(started, dict) else None
        yield Finished(f"started {started.get('id', '')} on {host} :{port}")

    def _pick_instance(self, state: HostState, title: str, then: object) -> None:
        live = [i for i in state.instances if i.live]
        if not live:
            self.notify(f"No instance runs on {state.name}.")
            return
        assert callable(then)
        if len(live) == 1:
            then(live[0])
            return
        choices = [(i.id, f"{i.version} :{i.port}  {i.id}") for i in live]

        def picked(value: str | None) -> None:
            chosen = next((i for i in live if i.id == value), None)
            if chosen is not None:
                then(chosen)

        self.app.push_screen(PickScreen(title, choices), picked)

    def action_stop(self) -> None:
        state = self._reachable()
        if state is None:
            return
        host = state.name

        def ask(inst: RemoteInstance) -> None:
            def answered(yes: bool | None) -> None:
                if yes:
                    self._job(f"stop {inst.id} on {host}", self._stop_events(host, inst.id))

            question = f"Stop {inst.id} (ComfyUI {inst.version} on {host}:{inst.port})?"
            self.app.push_screen(ConfirmScreen(question, yes="Stop", no="Keep"), answered)

        self._pick_instance(state, f"Stop which instance on {host}?", ask)

    async def _stop_events(self, host: str, target: str | None) -> AsyncIterator[Event]:
        yield LogLine(f"stopping {target or 'every instance'}", source=host)
        await self.fleet.stop(host, target)
        yield Finished(f"stopped {target or 'every instance'} on {host}")

    def action_install(self) -> None:
        state = self._reachable()
        if state is None:
            return
        host = state.name

        def install(tag: str | None) -> None:
            if tag:
                self._job(f"install {tag} on {host}", self._install_events(host, tag))

        dialog = TextInputScreen(
            f"Install on {host}", "Release tag (or branch/commit):", placeholder="v0.3.77"
        )
        self.app.push_screen(dialog, install)

    async def _install_events(self, host: str, tag: str) -> AsyncIterator[Event]:
        yield LogLine(f"installing {tag} (progress is on {host})", source=host)
        await self.fleet.install(host, tag)
        yield Finished(f"installed {tag} on {host}")

    def action_forward(self) -> None:
        state = self._reachable()
        if state is None:
            return
        host = state.name

        def forward(inst: RemoteInstance) -> None:
            if inst.port is not None:
                self._forward(host, inst.port)

        self._pick_instance(state, f"Open which instance on {host}?", forward)

    @work(exit_on_error=False)
    async def _forward(self, host: str, port: int) -> None:
        try:
            local = await self.fleet.forward(host, port)
        except Exception as exc:
            self.show_error(f"Forwarding {host}:{port} failed", exc)
            return
        url = f"http://localhost:{local}"
        self.say(f"{host}:127.0.0.1:{port} → {url} (open it in a browser on this machine)")
        self.notify(url, title=f"{host} :{port} forwarded", timeout=10)
        state = self.states.get(host)
        if state is not None:
            self.show(state.with_forwards(self.fleet.link(host).forwards()))

    def action_download(self) -> None:
        state = self._reachable()
        if state is None:
            return
        host = state.name

        async def submit(request: DownloadRequest) -> None:
            self._job(f"download on {host}", self._download_events(host, request))

        async def files(repo: str, revision: str) -> list[RepoEntry]:
            return await self.fleet.repo_files(host, repo, revision)

        self.app.push_screen(AddDownloadScreen(submit, files))

    async def _download_events(self, host: str, request: DownloadRequest) -> AsyncIterator[Event]:
        what = request.file or request.source
        yield LogLine(f"downloading {what} (progress is on {host})", source=host)
        done = await self.fleet.download(host, request)
        path = done.get("path") if isinstance(done, dict) else None
        yield Finished(f"downloaded {path or what} on {host}")

    def action_logs(self) -> None:
        state = self._reachable()
        if state is None:
            return
        host = state.name

        def open_log(inst: RemoteInstance) -> None:
            self.app.push_screen(FleetLogScreen(self.fleet, host, inst.id))

        self._pick_instance(state, f"Log of which instance on {host}?", open_log)

    # --- many hosts ----------------------------------------------------------------------
    def action_bulk(self) -> None:
        if not self.fleet.hosts:
            return
        choices = [("install", "Install a version"), ("stop", "Stop every instance")]
        self.app.push_screen(PickScreen("Bulk action", choices), self._bulk_picked)

    def _bulk_picked(self, action: str | None) -> None:
        if action is None:
            return

        def chosen_tag(tag: str | None) -> None:
            try:
                hosts = self.fleet.select(tags=[tag] if tag else [])
            except Exception as exc:
                self.notify(str(exc), severity="warning")
                return
            names = [h.name for h in hosts]
            if action == "install":
                self.app.push_screen(
                    TextInputScreen(
                        f"Install on {', '.join(names)}", "Release tag:", placeholder="v0.3.77"
                    ),
                    lambda tag_: self._bulk_confirm(action, names, tag_),
                )
            else:
                self._bulk_confirm(action, names, None)

        prompt = "Hosts with this tag (empty: every host):"
        self.app.push_screen(
            TextInputScreen("Which hosts?", prompt, placeholder="gpu=h100"), chosen_tag
        )

    def _bulk_confirm(self, action: str, names: list[str], version: str | None) -> None:
        if action == "install" and not version:
            return
        what = f"install {version}" if action == "install" else "stop every instance"
        question = f"{what.capitalize()} on {len(names)} host(s): {', '.join(names)}?"

        def answered(yes: bool | None) -> None:
            if yes:
                self._job(
                    f"{what} on {len(names)} host(s)", self._bulk_events(action, names, version)
                )

        self.app.push_screen(ConfirmScreen(question, yes="Go", no="Cancel"), answered)

    async def _bulk_events(
        self, action: str, names: list[str], version: str | None
    ) -> AsyncIterator[Event]:
        hosts = self.fleet.select(names=names)
        if action == "install" and version:
            results = await self.fleet.each(hosts, lambda h: self.fleet.install(h, version))
        else:
            results = await self.fleet.each(hosts, lambda h: self.fleet.stop(h))
        for result in results:
            yield LogLine(_result_line(result), source=result.host)
        done = sum(r.ok for r in results)
        yield Finished(
            f"{done} of {len(results)} host(s) done; " + "; ".join(_result_line(r) for r in results)
        )


def _result_line(result: HostResult) -> str:
    return f"{result.host}: {'ok' if result.ok else 'failed'} ({escape_text(result.detail)})"

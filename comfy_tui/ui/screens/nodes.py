"""Nodes screen (mode 5): shared custom nodes with the versions that enable them.

Keys: a add (URL), u update, e enable in a version (a uv dry run is reviewed first), x disable,
d remove, s snapshots (list, restore, take one). Below the shared nodes, the nodes versions
have on their own are listed (comfy-tui never touches them). Long jobs (clone, update, enable,
restore) are App jobs; this screen follows them through `app.job_updates`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from textual import work
from textual.app import ComposeResult
from textual.reactive import reactive
from textual.widgets import Label

from comfy_tui.core.node_plan import node_name_from_url
from comfy_tui.errors import ComfyTuiError
from comfy_tui.events import Event, Finished, LogLine, Progress
from comfy_tui.runner import NODE_JOBS, JobKey, JobKind, JobUpdate
from comfy_tui.services.nodes import NodeInfo, NodesOverview
from comfy_tui.ui.dialogs.text_input import TextInputScreen
from comfy_tui.ui.guards import refused
from comfy_tui.ui.screens import nodes_flows as flows
from comfy_tui.ui.screens.base import ModeScreen
from comfy_tui.ui.screens.nodes_keys import NODES_KEYS
from comfy_tui.ui.widgets.card import Line
from comfy_tui.ui.widgets.empty_state import EmptyState
from comfy_tui.ui.widgets.node_table import NodeTable, OwnNodeTable

log = logging.getLogger(__name__)

URL_EXAMPLE = "https://github.com/owner/ComfyUI-SomeNode"


class NodesScreen(ModeScreen):
    """Mode 5."""

    MODE_TITLE = "Nodes"
    AUTO_FOCUS = "#nodes-table"
    KEYS = NODES_KEYS

    overview: reactive[NodesOverview | None] = reactive[NodesOverview | None](None, init=False)
    """What the last read found (None before the first); the screen redraws when it changes."""
    status: reactive[str] = reactive("", init=False)
    """A flow's line under the tables ("" shows the counts)."""

    def __init__(self) -> None:
        super().__init__()
        self.jobs: dict[JobKey, str] = {}  # job key -> its line in the jobs box

    def compose_body(self) -> ComposeResult:
        yield NodeTable(id="nodes-table")
        yield EmptyState(
            "No shared custom nodes yet — press a to add one by its git URL", id="nodes-empty"
        )
        yield Label("Nodes versions have on their own (left alone)", id="nodes-own-title")
        yield OwnNodeTable(id="nodes-own")
        yield Line("", id="nodes-jobs")
        yield Line("", id="nodes-status")

    def on_mount(self) -> None:
        self.comfy_app.job_updates.subscribe(self, self._on_job_update)
        self.render_overview()

    def on_screen_resume(self) -> None:
        """Read the nodes each time the screen is shown (the first time too)."""
        self.reload()

    def on_state_changed(self, areas: frozenset[str]) -> None:
        if areas & {"nodes", "versions"}:
            self.reload()

    # --- loading and rendering ----------------------------------------------------------
    @work(group="nodes:load", exclusive=True, exit_on_error=False)
    async def reload(self) -> None:
        """Read the nodes again (a newer reload replaces a pending one)."""
        try:
            self.overview = await self.comfy_app.services.nodes.overview()
        except ComfyTuiError as exc:
            self.show_error("Reading the nodes failed", exc)

    def watch_overview(self) -> None:
        self.render_overview()

    def watch_status(self) -> None:
        if self.is_mounted:
            self._render_status()

    def render_overview(self) -> None:
        if not self.is_mounted:
            return
        overview = self.overview
        nodes = overview.nodes if overview else ()
        own = overview.own if overview else ()
        table = self.query_one(NodeTable)
        table.show(nodes)
        table.display = bool(nodes)
        if nodes and self.focused is None:
            table.focus()
        self.query_one("#nodes-empty").display = not nodes
        self.query_one("#nodes-own-title").display = bool(own)
        own_table = self.query_one(OwnNodeTable)
        own_table.show(own)
        own_table.display = bool(own)
        self._render_status()
        self.refresh_bindings()

    def _render_status(self) -> None:
        jobs = self.query_one("#nodes-jobs", Line)
        jobs.show("\n".join(self.jobs.values()))
        jobs.display = bool(self.jobs)
        if self.status:
            text = self.status
        elif self.overview is None:
            text = "reading the nodes…"
        else:
            n, v = len(self.overview.nodes), len(self.overview.versions)
            text = f"{n} shared node{'s' * (n != 1)} · {v} version{'s' * (v != 1)} installed"
        self.query_one("#nodes-status", Line).show(text)

    def set_status(self, text: str) -> None:
        self.status = text

    # --- jobs ---------------------------------------------------------------------------
    def _on_job_update(self, update: JobUpdate) -> None:
        if update.key.kind not in NODE_JOBS:
            return
        event = update.event
        if update.state == "running":
            line = self.jobs.get(update.key) or f"◌ {update.description}"
            if isinstance(event, Progress):
                detail = f" · {event.detail}" if event.detail else ""
                line = f"◌ {update.description} · {event.fraction:.0%}{detail}"
            elif isinstance(event, LogLine):
                line = f"◌ {update.description} · {event.text[:200]}"
            self.jobs[update.key] = line
            self._render_status()
            return
        self.jobs.pop(update.key, None)
        if update.state == "finished" and isinstance(event, Finished):
            self.notify(event.detail, title=update.description.capitalize())
            if update.key.kind is JobKind.NODE_UPDATE:
                self._after_update(update.key.id)
        elif update.state == "cancelled":
            self.notify(f"{update.description} was cancelled", severity="warning")
        self.reload()

    def _after_update(self, name: str) -> None:
        """Plan the updated node's requirements in every version using it; ask if they change."""

        async def plan_each() -> None:
            for tag in await self.comfy_app.services.nodes.enabled_in(name):
                await flows.dependencies(self, name, tag, after_update=True)

        self._flow(plan_each)

    def start_job(
        self, key: JobKey, description: str, events: Callable[[], AsyncIterator[Event]]
    ) -> bool:
        """Start an App job unless the same one runs (starting it again would cancel it)."""
        if key in self.jobs or self.comfy_app.job_running(key):
            self.notify(f"{description} is running already", severity="warning")
            return False
        self.jobs[key] = f"◌ {description}"
        self._render_status()
        self.comfy_app.start_job(key, description, events)
        return True

    # --- actions ------------------------------------------------------------------------
    def selected(self) -> NodeInfo | None:
        return self.query_one(NodeTable).selected

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("update", "enable", "disable", "remove"):
            return self.selected() is not None
        return True

    @work(group="nodes:flow", exclusive=True, exit_on_error=False)
    async def _flow(self, flow: Callable[[], Awaitable[None]]) -> None:
        """Run one dialog flow (a newer one replaces a running one)."""
        await flow()

    def _with_selected(self, flow: Callable[[NodesScreen, NodeInfo], Awaitable[None]]) -> None:
        info = self.selected()
        if info is None:
            self.notify("Select a node first (or press a to add one)", severity="warning")
            return
        self._flow(lambda: flow(self, info))

    def action_add(self) -> None:
        async def ask() -> None:
            url = await self.app.push_screen_wait(
                TextInputScreen(
                    "Add a custom node",
                    "Its git repository (https). It is cloned once into nodes/ and can then "
                    "be enabled in any version.",
                    placeholder=URL_EXAMPLE,
                    validate=_url_problem,
                )
            )
            if url:
                self.start_add(url)

        self._flow(ask)

    def start_add(self, url: str) -> None:
        try:
            name = node_name_from_url(url)
        except ComfyTuiError as exc:
            self.notify(str(exc), title="Add a node", severity="error")
            return
        nodes = self.comfy_app.services.nodes
        self.start_job(JobKey(JobKind.NODE_ADD, name), f"add {name}", lambda: nodes.add(url))

    def action_update(self, pin: bool = False) -> None:
        """Fast-forward the selected node; with `pin` (`U`), check out a commit or tag you
        type, pinned (`comfy-tui nodes update NAME --commit REF`)."""
        info = self.selected()
        if info is None:
            return
        nodes = self.comfy_app.services.nodes

        async def guarded() -> None:
            ref: str | None = None
            if pin:
                ref = await self.app.push_screen_wait(
                    TextInputScreen(
                        f"Pin {info.name}",
                        "Check out this commit or tag (pinned: updates leave it there)",
                        placeholder="1a2b3c4",
                        validate=_ref_problem,
                    )
                )
                if not ref:
                    return
            doing = f"update {info.name}" + (f" to {ref}" if ref else "")
            check = nodes.check_change(info.name, info.enabled_in, doing)
            if not await refused(self.app, f"Update {info.name}", check):
                key = JobKey(JobKind.NODE_UPDATE, info.name)
                self.start_job(key, doing, lambda: nodes.update(info.name, ref))

        self._flow(guarded)

    def action_enable(self) -> None:
        self._with_selected(flows.enable)

    def action_disable(self) -> None:
        self._with_selected(flows.disable)

    def action_remove(self) -> None:
        self._with_selected(flows.remove)

    def action_snapshots(self) -> None:
        info = self.selected()
        preferred = info.enabled_in[0] if info and info.enabled_in else None
        self._flow(lambda: flows.snapshots(self, preferred))

    def action_refresh(self) -> None:
        self.reload()


def _url_problem(url: str) -> str | None:
    """Why `url` cannot be added as a node (shown under the field), or None."""
    try:
        node_name_from_url(url)
    except ComfyTuiError as exc:
        return str(exc)
    return None


def _ref_problem(text: str) -> str | None:
    """Why `text` is no commit or tag to pin to (the check `nodes update --commit` makes)."""
    from comfy_tui.validate import validate_tag

    try:
        validate_tag(text)
    except ComfyTuiError as exc:
        return str(exc)
    return None

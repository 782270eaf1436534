"""The last lines of a remote instance's log (`comfy-tui logs ID --json` on the host)."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label

from comfy_tui.core.safe_text import escape_text
from comfy_tui.services.fleet.service import Fleet
from comfy_tui.ui.widgets.log_pane import LogPane

LINES = 500


class FleetLogScreen(ModalScreen[None]):
    """Shows the log once it has come; `r` asks again, escape closes."""

    BINDINGS = [
        Binding("escape,q", "close", "Close", id="fleet-log-close"),
        Binding("r", "reload", "Reload", id="fleet-log-reload"),
    ]

    def __init__(self, fleet: Fleet, host: str, instance: str) -> None:
        super().__init__()
        self.fleet = fleet
        self.host = host
        self.instance = instance

    def compose(self) -> ComposeResult:
        with Vertical(id="fleet-log-box"):
            yield Label(f"{self.host}: log of {self.instance}", id="fleet-log-title", markup=False)
            yield LogPane(id="fleet-log-pane")
            yield Label("loading…", id="fleet-log-status", markup=False)

    def on_mount(self) -> None:
        self.action_reload()

    def action_reload(self) -> None:
        self._load()

    @work(group="fleet:log", exclusive=True, exit_on_error=False)
    async def _load(self) -> None:
        status = self.query_one("#fleet-log-status", Label)
        try:
            lines = await self.fleet.logs(self.host, self.instance, LINES)
        except Exception as exc:
            status.update(f"cannot read the log: {escape_text(str(exc))}")
            return
        pane = self.query_one(LogPane)
        pane.clear()
        pane.add_lines([escape_text(line) for line in lines])
        status.update(f"last {len(lines)} lines · r reload · escape closes")

    def action_close(self) -> None:
        self.dismiss(None)

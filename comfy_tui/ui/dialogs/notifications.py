"""The notifications list (`N`): the latest notices, newest first."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from comfy_tui.core.timefmt import format_clock
from comfy_tui.services.notify.notice import Notice
from comfy_tui.ui.dialogs import DIALOG_CSS


class NotificationsScreen(ModalScreen[None]):
    """Lists the notices it is given; escape, `N` or `q` closes it."""

    CSS_PATH = DIALOG_CSS

    BINDINGS = [Binding("escape,N,q", "close", "Close", id="notifications-close")]

    def __init__(self, notices: Sequence[Notice]) -> None:
        super().__init__()
        self._notices = list(notices)

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Label("Notifications", id="help-title")
            table: DataTable[str | Text] = DataTable(id="notifications-table", cursor_type="row")
            table.add_columns("Time", "What", "Detail")
            for notice in self._notices:
                style = "red" if notice.failure else ""
                table.add_row(format_clock(notice.at), Text(notice.title, style=style), notice.body)
            yield table
            if not self._notices:
                yield Label("Nothing yet: finished jobs, crashes, downloads and installs show here")
            yield Label("escape closes", id="help-hint")

    def action_close(self) -> None:
        self.dismiss(None)

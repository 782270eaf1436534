"""An error dialog: what failed and why, in plain words; any key closes it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label


class ErrorScreen(ModalScreen[None]):
    """Shown by the App when a job fails unexpectedly."""

    BINDINGS = [Binding("escape,enter,q", "close", "Close", id="error-close")]

    def __init__(self, title: str, message: str) -> None:
        super().__init__()
        self._title = title
        self._message = message

    def compose(self) -> ComposeResult:
        with Vertical(id="error-box"):
            yield Label(self._title, id="error-title", markup=False)
            yield Label(self._message, id="error-message", markup=False)
            yield Label("enter or escape closes", id="error-hint")

    def action_close(self) -> None:
        self.dismiss(None)

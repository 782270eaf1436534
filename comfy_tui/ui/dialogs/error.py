"""An error dialog: what failed and why, in plain words; any key closes it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label

from comfy_tui.core.safe_text import escape_text


class ErrorScreen(ModalScreen[None]):
    """Shown by the App when a job fails unexpectedly."""

    BINDINGS = [Binding("escape,enter,q", "close", "Close", id="error-close")]

    def __init__(self, title: str, message: str) -> None:
        super().__init__()
        self._title = title
        # user input in a message (a tag, a path) cannot smuggle in terminal control codes
        self._message = "\n".join(escape_text(line) for line in message.split("\n"))

    def compose(self) -> ComposeResult:
        with Vertical(id="error-box"):
            yield Label(self._title, id="error-title", markup=False)
            yield Label(self._message, id="error-message", markup=False)
            yield Label("enter or escape closes", id="error-hint")

    def action_close(self) -> None:
        self.dismiss(None)

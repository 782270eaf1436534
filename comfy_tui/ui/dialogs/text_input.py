"""Asks for one line of text (a URL, a name): enter submits, escape cancels."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label


class TextInputScreen(ModalScreen[str | None]):
    """Dismisses with the stripped text, or None when cancelled or empty."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="input-cancel")]

    def __init__(self, title: str, prompt: str, *, placeholder: str = "") -> None:
        super().__init__()
        self._title = title
        self._prompt = prompt
        self._placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="input-box"):
            yield Label(self._title, id="input-title", markup=False)
            yield Label(self._prompt, id="input-prompt", markup=False)
            yield Input(placeholder=self._placeholder, id="input-value")
            yield Label("enter accepts · escape cancels", id="input-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)

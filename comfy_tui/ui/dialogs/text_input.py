"""Asks for one line of text (a URL, a name): enter submits, escape cancels.

With `validate`, a bad value is explained under the field and the dialog stays open with the
typed text, so nothing is lost.
"""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from comfy_tui.ui.dialogs import DIALOG_CSS


class TextInputScreen(ModalScreen[str | None]):
    """Dismisses with the stripped text, or None when cancelled or empty (with `allow_empty`,
    an empty field dismisses with "": "take the default")."""

    CSS_PATH = DIALOG_CSS

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="input-cancel")]

    def __init__(
        self,
        title: str,
        prompt: str,
        *,
        placeholder: str = "",
        validate: Callable[[str], str | None] | None = None,
        allow_empty: bool = False,
    ) -> None:
        """`validate` returns why a value is not acceptable, or None when it is."""
        super().__init__()
        self._validate = validate
        self._allow_empty = allow_empty
        self._title = title
        self._prompt = prompt
        self._placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="input-box"):
            yield Label(self._title, id="input-title", markup=False)
            yield Label(self._prompt, id="input-prompt", markup=False)
            yield Input(placeholder=self._placeholder, id="input-value")
            yield Label("", id="input-error", markup=False)
            yield Label("enter accepts · escape cancels", id="input-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        value = event.value.strip()
        problem = self._validate(value) if value and self._validate else None
        error = self.query_one("#input-error", Label)
        error.update(problem or "")
        error.set_class(bool(problem), "-error")
        if problem is None:
            self.dismiss(value or ("" if self._allow_empty else None))

    def action_cancel(self) -> None:
        self.dismiss(None)

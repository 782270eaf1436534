"""A yes/no question, answered with y/n (or enter/escape), with at most one checkbox beside it
(an option of the yes, e.g. stop's "--keep-wanted"): the caller reads `option_checked`."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Label

from comfy_tui.ui.dialogs import DIALOG_CSS


class ConfirmScreen(ModalScreen[bool]):
    """Dismisses with True for yes, False for no."""

    CSS_PATH = DIALOG_CSS

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm-yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm-no"),
    ]

    def __init__(
        self, question: str, *, yes: str = "Yes", no: str = "No", option: str | None = None
    ) -> None:
        super().__init__()
        self._question = question
        self._yes = yes
        self._no = no
        self._option = option

    @property
    def option_checked(self) -> bool:
        """Whether the option's checkbox was ticked (False when there is none)."""
        found = self.query("#confirm-option")
        return bool(found) and found.first(Checkbox).value

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Label(self._question, id="confirm-question", markup=False)
            if self._option is not None:
                yield Checkbox(self._option, compact=True, id="confirm-option")
            with Horizontal(id="confirm-buttons"):
                yield Button(f"{self._yes} (y)", id="confirm-yes", variant="error")
                yield Button(f"{self._no} (n)", id="confirm-no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

"""A question with the details it is about (what would change), answered y/n."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Label, Static

from comfy_tui.ui.dialogs import DIALOG_CSS


class ReviewScreen(ModalScreen[bool]):
    """Shows `lines` (scrollable) under a title, then `question`; True for yes.

    `danger` marks a risky yes (a torch change, running a node's code): "no" keeps the focus.
    """

    CSS_PATH = DIALOG_CSS

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="review-yes"),
        Binding("n,escape", "answer(False)", "No", id="review-no"),
    ]

    def __init__(
        self,
        title: str,
        lines: list[str],
        question: str,
        *,
        yes: str = "Yes",
        no: str = "No",
        danger: bool = False,
    ) -> None:
        super().__init__()
        self._title = title
        self._lines = lines
        self._question = question
        self._yes = yes
        self._no = no
        self._danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="review-box", classes="-danger" if self._danger else ""):
            yield Label(self._title, id="review-title", markup=False)
            with VerticalScroll(id="review-lines"):
                yield Static("\n".join(self._lines) or "(nothing)", markup=False)
            yield Label(self._question, id="review-question", markup=False)
            with Horizontal(id="review-buttons"):
                yield Button(f"{self._yes} (y)", id="review-yes", variant="warning")
                yield Button(f"{self._no} (n)", id="review-no", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#review-no" if self._danger else "#review-yes", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "review-yes")

    def action_answer(self, answer: bool) -> None:
        self.dismiss(answer)

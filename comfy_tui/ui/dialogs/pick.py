"""Pick one of a few choices (a version, for example): enter picks, escape cancels."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from comfy_tui.ui.dialogs import DIALOG_CSS


class PickScreen(ModalScreen[str | None]):
    """Dismisses with the picked choice's value, or None."""

    CSS_PATH = DIALOG_CSS

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="pick-cancel")]

    def __init__(self, title: str, choices: list[tuple[str, str]]) -> None:
        """`choices`: (value, label) pairs, shown in order."""
        super().__init__()
        self._title = title
        self._choices = choices

    def compose(self) -> ComposeResult:
        with Vertical(id="pick-box"):
            yield Label(self._title, id="pick-title", markup=False)
            yield OptionList(
                *(Option(label, id=value) for value, label in self._choices), id="pick-list"
            )
            yield Label("enter picks · escape cancels", id="pick-hint")

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)

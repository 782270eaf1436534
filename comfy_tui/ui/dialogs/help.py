"""The help screen: every key that works where `?` was pressed, with one line of help each."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from comfy_tui.ui.dialogs import DIALOG_CSS


@dataclass(frozen=True)
class HelpRow:
    key: str
    description: str
    help: str


class HelpScreen(ModalScreen[None]):
    """Lists the rows it is given; escape, `?` or `q` closes it."""

    CSS_PATH = DIALOG_CSS

    BINDINGS = [
        Binding("escape,question_mark,q", "dismiss_help", "Close", id="help-close"),
    ]

    def __init__(self, title: str, rows: list[HelpRow]) -> None:
        super().__init__()
        self._title = title
        self._rows = rows

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Label(f"Keys — {self._title}", id="help-title", markup=False)
            table: DataTable[str] = DataTable(
                id="help-table", cursor_type="row", zebra_stripes=True
            )
            table.add_columns("Key", "Does", "Help")
            for row in self._rows:
                table.add_row(row.key, row.description, row.help)
            yield table
            yield Label("escape closes", id="help-hint")

    def action_dismiss_help(self) -> None:
        self.dismiss(None)

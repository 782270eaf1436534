"""The help screen: every key that works where `?` was pressed, with its help; a long help
line wraps inside the box (nothing is cut at 80 columns)."""

from __future__ import annotations

import textwrap
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


BOX_SHARE, BOX_MAX, BOX_FRAME = 0.9, 100, 4
"""The box's width (styles/dialogs.tcss: 90%, at most 100) and its border + padding."""
CELL_PADDING = 3 * 2 + 2
"""One column of padding each side of three cells, and the table's vertical scrollbar."""


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
            key_w = max([3, *(len(r.key) for r in self._rows)])
            does_w = max([4, *(len(r.description) for r in self._rows)])
            help_w = max(20, self._inner_width() - key_w - does_w - CELL_PADDING)
            table.add_column("Key", width=key_w)
            table.add_column("Does", width=does_w)
            table.add_column("Help", width=help_w)
            for row in self._rows:
                lines = textwrap.wrap(row.help, help_w) or [""]
                table.add_row(row.key, row.description, "\n".join(lines), height=len(lines))
            yield table
            yield Label("escape closes", id="help-hint")

    def _inner_width(self) -> int:
        return min(int(self.app.size.width * BOX_SHARE), BOX_MAX) - BOX_FRAME

    def action_dismiss_help(self) -> None:
        self.dismiss(None)

"""A read-only text report (settings, a version's package audit, autostart state): the lines
wrap at the box's width and scroll; escape, enter or `q` closes it."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from comfy_tui.core.safe_text import escape_text
from comfy_tui.ui.dialogs import DIALOG_CSS


class ReportScreen(ModalScreen[None]):
    """Shows `lines` under `title`; nothing in it acts."""

    CSS_PATH = DIALOG_CSS
    BINDINGS = [Binding("escape,enter,q", "close", "Close", id="report-close")]

    def __init__(self, title: str, lines: Sequence[str]) -> None:
        super().__init__()
        self._title = title
        self.lines = list(lines)

    def compose(self) -> ComposeResult:
        with Vertical(id="report-box"):
            yield Label(escape_text(self._title), id="report-title", markup=False)
            with VerticalScroll(id="report-body"):
                text = "\n".join(escape_text(line) for line in self.lines)
                yield Static(text, id="report-text", markup=False)
            yield Label("escape closes", id="report-hint")

    def action_close(self) -> None:
        self.dismiss(None)

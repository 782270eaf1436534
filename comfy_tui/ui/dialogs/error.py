"""An error dialog that says the whole error: message, causes, the fix, the log; `c` saves it.

The box sizes to its text (up to the screen) and scrolls; nothing is cut. `c` writes the
report to a text file and says where, so it can be `cat`-ed or pasted.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from comfy_tui.core.error_report import ErrorReport
from comfy_tui.core.safe_text import escape_text
from comfy_tui.ui.dialogs import DIALOG_CSS


def _safe(text: str) -> str:
    """User input in a message (a tag, a path) cannot smuggle in terminal control codes."""
    return "\n".join(escape_text(line) for line in text.split("\n"))


class ErrorScreen(ModalScreen[None]):
    """What failed, why, and how to fix it."""

    CSS_PATH = DIALOG_CSS

    BINDINGS = [
        Binding("escape,enter,q", "close", "Close", id="error-close"),
        Binding("c", "save", "Save to a file", id="error-save"),
    ]

    def __init__(
        self, title: str, message: str = "", *, report: ErrorReport | None = None,
        save_dir: Path | None = None,
    ) -> None:  # fmt: skip
        super().__init__()
        self.report = report or ErrorReport(title, message)
        self._save_dir = save_dir
        self.saved_to: Path | None = None

    def compose(self) -> ComposeResult:
        report = self.report
        with Vertical(id="error-box"):
            yield Label(_safe(report.title), id="error-title", markup=False)
            with VerticalScroll(id="error-body"):
                yield Static(_safe(report.message), id="error-message", markup=False)
                for cause in report.causes:
                    yield Static(_safe(f"caused by: {cause}"), classes="error-cause", markup=False)
                for line in report.extra:
                    yield Static(_safe(line), classes="error-extra", markup=False)
                if report.hint:
                    yield Static(_safe(f"fix: {report.hint}"), id="error-hint-fix", markup=False)
                if report.log_path:
                    yield Static(_safe(f"log: {report.log_path}"), id="error-log", markup=False)
            keys = "enter closes · c saves to a file" if self._save_dir else "enter closes"
            yield Label(keys, id="error-hint", markup=False)

    def on_mount(self) -> None:
        """Fit the box to the longest line (wider up to 100 columns; CSS caps it at 95%)."""
        longest = max(len(line) for line in self.report.text().splitlines())
        self.query_one("#error-box").styles.width = min(max(longest + 4, 44), 100)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        if self._save_dir is None:
            return
        try:
            self.saved_to = self.report.save(self._save_dir)
        except OSError as exc:
            self.query_one("#error-hint", Label).update(f"could not save: {exc}")
            return
        self.query_one("#error-hint", Label).update(f"saved: cat {self.saved_to}")

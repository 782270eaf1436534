"""The one-line header strip: app name, current screen, and the key numbers of the box."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widgets import Label


class StatusStrip(Horizontal):
    """`comfy-tui › Versions` on the left, a summary such as `GPU 12% · CPU 3%` on the right."""

    DEFAULT_CSS = """
    StatusStrip { height: 1; dock: top; }
    StatusStrip > .title { width: auto; }
    StatusStrip > .summary { width: 1fr; content-align: right middle; }
    """

    # repaint=False: the labels repaint themselves; repainting the strip would resend the
    # title to the terminal every tick
    title: reactive[str] = reactive("", repaint=False)
    summary: reactive[str] = reactive("", repaint=False)

    def __init__(self, title: str, summary: str = "", *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.set_reactive(StatusStrip.title, title)
        self.set_reactive(StatusStrip.summary, summary)

    def compose(self) -> ComposeResult:
        yield Label(self._title_text(), classes="title", markup=False)
        yield Label(self.summary, classes="summary", markup=False)

    def _title_text(self) -> str:
        return f" comfy-tui › {self.title}"

    def watch_title(self) -> None:
        if self.is_mounted:
            self.query_one(".title", Label).update(self._title_text())

    def watch_summary(self, summary: str) -> None:
        if self.is_mounted:  # the label's width is fixed (1fr): no layout, no title repaint
            self.query_one(".summary", Label).update(summary, layout=False)

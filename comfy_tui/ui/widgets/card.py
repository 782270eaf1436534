"""`Card`: a bordered, titled box of the Monitor screen; `Line`: text that repaints only
when it changes (every repaint costs bytes on an SSH link)."""

from __future__ import annotations

from textual.containers import Vertical
from textual.widgets import Static


class Line(Static):
    """One or more lines of plain text (no markup) with a change check."""

    DEFAULT_CSS = """
    Line { height: auto; width: 1fr; }
    """

    def __init__(self, text: str = "", *, id: str | None = None, classes: str | None = None):
        super().__init__(text, id=id, classes=classes, markup=False)
        self._text = text

    @property
    def text(self) -> str:
        return self._text

    def show(self, text: str) -> None:
        """Set the text; nothing happens when it is the same as before."""
        if text != self._text:
            layout = text.count("\n") != self._text.count("\n")
            self._text = text
            self.update(text, layout=layout)


class Card(Vertical):
    """A titled box; the Monitor screen lays cards out in responsive grids."""

    DEFAULT_CSS = """
    Card { height: auto; }
    """

    def __init__(self, title: str, *, id: str | None = None, classes: str | None = None):
        super().__init__(id=id, classes=f"card {classes or ''}".strip())
        self.border_title = title

    def retitle(self, title: str) -> None:
        """Change the border title (no repaint when it is unchanged)."""
        if self.border_title != title:
            self.border_title = title

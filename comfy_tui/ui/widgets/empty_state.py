"""A centred message that says honestly why a screen is empty and which key to press."""

from __future__ import annotations

from textual.widgets import Static


class EmptyState(Static):
    """Shown in place of a table that has no rows yet."""

    DEFAULT_CSS = """
    EmptyState { width: 1fr; height: 1fr; content-align: center middle; text-align: center; }
    """

    def __init__(self, message: str, *, id: str | None = None) -> None:
        super().__init__(message, id=id, markup=False)
        self._message = message

    def show(self, message: str) -> None:
        """Say `message`; nothing is repainted when it is what the widget says already."""
        if message != self._message:
            self._message = message
            self.update(message)

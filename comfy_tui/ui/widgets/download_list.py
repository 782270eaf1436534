"""`DownloadList`: the download queue, one line per download — name, a progress bar, percent,
speed and ETA (or the state) — with a cursor that the pause and cancel keys act on.

Rows are redrawn only when what they show changes (each repaint costs bytes over SSH), and
the cursor stays on its download when the list changes.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from comfy_tui.core.units import format_bytes, format_duration, format_rate
from comfy_tui.services.downloads import DownloadItem, State

__all__ = ["DownloadList", "detail_line", "row_content"]

MARKS = {
    State.ACTIVE: ("↓", "$accent"),
    State.QUEUED: ("·", "$text-muted"),
    State.PAUSED: ("‖", "$warning"),
    State.FAILED: ("✗", "$error"),
    State.DONE: ("✓", "$success"),
    State.CANCELLED: ("–", "$text-muted"),
}
BAR_STYLES = {State.DONE: "$success", State.PAUSED: "$warning 70%", State.FAILED: "$error"}
TAIL = 18
"""Cells of the right-hand part: "123.4 MiB/s 1:02:03" or the state."""
MIN_WIDTH = 40
"""Narrower lists scroll sideways rather than lose the bar."""


def _tail(item: DownloadItem) -> str:
    if item.state is State.ACTIVE:
        speed = format_rate(item.speed or None, unknown="-- /s")
        return f"{speed:>11} {format_duration(item.eta, unknown='--'):>6}"
    return str(item.state).rjust(TAIL)


def _bar(fraction: float, width: int, state: State) -> Content:
    halves = round(fraction * width * 2)
    full, half = divmod(min(halves, width * 2), 2)
    rest = width - full - half
    lit = BAR_STYLES.get(state, "$accent")
    return Content.assemble(
        ("━" * full + ("╸" if half else ""), lit), ("━" * rest, "$foreground 15%")
    )


def _layout(width: int) -> tuple[int, int]:
    """(bar, name) cells of a row `width` cells wide."""
    width = max(width, MIN_WIDTH)
    bar_width = max(4, min(24, (width - TAIL - 8) // 3))
    return bar_width, width - 2 - 1 - bar_width - 5 - 1 - TAIL


def drawn_key(item: DownloadItem, width: int) -> str:
    """What a row looks like: its text and how many half-cells of its bar are lit."""
    lit = round(item.fraction * _layout(width)[0] * 2)
    return f"{row_content(item, width)}|{lit}"


def row_content(item: DownloadItem, width: int) -> Content:
    """One download in `width` cells: mark, name, bar, percent, speed and ETA (or state)."""
    mark, style = MARKS[item.state]
    bar_width, name_width = _layout(width)
    name = item.label
    if len(name) > name_width:
        name = name[: max(1, name_width - 1)] + "…"
    percent = f"{item.fraction:>4.0%}" if item.bytes_total or item.state is State.DONE else "   ?"
    return Content.assemble(
        (mark + " ", style),
        name.ljust(name_width) + " ",
        _bar(item.fraction, bar_width, item.state),
        " " + percent + " ",
        (_tail(item), style if item.state is not State.ACTIVE else ""),
    )


def detail_line(item: DownloadItem) -> str:
    """What the panel says about the highlighted download (its error, its place, its bytes)."""
    if item.state is State.FAILED and item.error:
        return item.error
    where = f"{item.folder}/{item.filename}" if item.folder and item.filename else item.label
    if item.state is State.DONE:
        return f"{where} · {format_bytes(item.bytes_done)}"
    if item.error:  # paused after a network failure: why, and that `p` resumes
        return f"{item.error} (p resumes)"
    total = format_bytes(item.bytes_total) if item.bytes_total else "?"
    return f"{where} · {format_bytes(item.bytes_done)} of {total}"


class DownloadList(OptionList):
    """The queue, oldest first; `selected` is the highlighted download."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.items: dict[str, DownloadItem] = {}
        self._drawn: dict[str, str] = {}
        """Each row as drawn (`drawn_key`): a row is replaced only when that changes."""

    @property
    def selected(self) -> DownloadItem | None:
        option = self.highlighted_option
        if option is not None and option.id in self.items:
            return self.items[option.id]
        return next(iter(self.items.values()), None)

    def _row_width(self) -> int:
        return self.scrollable_content_region.width or self.size.width

    def show(self, items: Sequence[DownloadItem]) -> None:
        """Show `items`: rows are replaced only where what they draw changed."""
        width = self._row_width()
        ids = [i.id for i in items]
        self.items = {i.id: i for i in items}
        rows = {i.id: row_content(i, width) for i in items}
        if ids != [o.id for o in self.options]:
            keep = self.highlighted_option.id if self.highlighted_option else None
            self.set_options(Option(rows[i], id=i) for i in ids)
            self._drawn = {i.id: drawn_key(i, width) for i in items}
            if ids:
                self.highlighted = ids.index(keep) if keep in ids else 0
            return
        for item in items:
            key = drawn_key(item, width)
            if self._drawn.get(item.id) != key:
                self.replace_option_prompt(item.id, rows[item.id])
                self._drawn[item.id] = key

    def on_resize(self) -> None:
        self.show(list(self.items.values()))

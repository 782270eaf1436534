"""A virtual table for large libraries: only the visible rows are ever rendered.

Textual's DataTable measures every cell of every row it is given (seconds for 10,000 rows).
The Models screen knows its column widths in advance, so this Line-API widget takes plain
rows, renders just the lines on screen, and loads 10,000 rows in milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Static

__all__ = ["Column", "ModelTable", "TableHeader"]

Column = tuple[str, int]  # (label, width)
GAP = 2


def _cell(text: str, width: int) -> str:
    if len(text) > width:
        text = text[: max(width - 1, 0)] + "…"
    return text.ljust(width)


def format_row(cells: Sequence[str], columns: Sequence[Column]) -> str:
    return (" " * GAP).join(_cell(c, w) for c, (_, w) in zip(cells, columns, strict=False))


class TableHeader(Static):
    """The column labels, above the table (they do not scroll)."""

    DEFAULT_CSS = "TableHeader { height: 1; text-style: bold; padding: 0 1; }"

    def show(self, columns: Sequence[Column]) -> None:
        self.update(format_row([label for label, _ in columns], columns))


class ModelTable(ScrollView, can_focus=True):
    """Rows of text cells with a row cursor; posts `Highlighted` when the cursor moves."""

    DEFAULT_CSS = """
    ModelTable { height: 1fr; padding: 0 1; }
    ModelTable > .model-table--cursor { background: $block-cursor-blurred-background; }
    ModelTable:focus > .model-table--cursor {
        background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold;
    }
    ModelTable > .model-table--even { background: $surface; }
    """
    COMPONENT_CLASSES = {"model-table--cursor", "model-table--even"}
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False, id="models-up"),
        Binding("down", "move(1)", "Down", show=False, id="models-down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="models-page-up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="models-page-down"),
        Binding("home", "jump(0)", "First", show=False, id="models-first"),
        Binding("end", "jump(-1)", "Last", show=False, id="models-last"),
    ]

    cursor: reactive[int] = reactive(0, always_update=True)

    class Highlighted(Message):
        def __init__(self, table: ModelTable, key: str | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> ModelTable:
            return self.table

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.columns: list[Column] = []
        self.rows: list[tuple[str, ...]] = []
        self.keys: list[str] = []
        self._index: dict[str, int] = {}

    @property
    def row_count(self) -> int:
        return len(self.rows)

    @property
    def cursor_key(self) -> str | None:
        return self.keys[self.cursor] if self.rows else None

    def set_rows(
        self,
        columns: Sequence[Column],
        rows: Sequence[tuple[str, ...]],
        keys: Sequence[str],
        *,
        keep: str | None = None,
    ) -> None:
        """Replace every row; the cursor stays on `keep` when it is still there."""
        self.columns = list(columns)
        self.rows = list(rows)
        self.keys = list(keys)
        self._index = {k: i for i, k in enumerate(self.keys)}
        width = sum(w for _, w in self.columns) + GAP * max(len(self.columns) - 1, 0)
        self.virtual_size = Size(width, len(self.rows))
        self.cursor = self._index.get(keep, 0) if keep is not None else 0
        self.refresh()

    def validate_cursor(self, value: int) -> int:
        return max(0, min(value, len(self.rows) - 1)) if self.rows else 0

    def watch_cursor(self, value: int) -> None:
        top = round(self.scroll_y)
        height = self.scrollable_content_region.height
        if value < top:
            self.scroll_to(y=value, animate=False)
        elif height and value >= top + height:
            self.scroll_to(y=value - height + 1, animate=False)
        self.refresh()
        self.post_message(self.Highlighted(self, self.cursor_key))

    def action_move(self, delta: int) -> None:
        self.cursor += delta

    def action_page(self, direction: int) -> None:
        self.cursor += direction * max(self.scrollable_content_region.height - 1, 1)

    def action_jump(self, index: int) -> None:
        self.cursor = index if index >= 0 else len(self.rows) - 1

    def on_click(self, event: events.Click) -> None:
        row = event.y + round(self.scroll_y)
        if 0 <= row < len(self.rows):
            self.cursor = row

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = y + round(self.scroll_y)
        base = self.rich_style
        if index >= len(self.rows):
            return Strip.blank(width, base)
        style: Style = base
        if index == self.cursor:
            style = base + self.get_component_rich_style("model-table--cursor")
        elif index % 2:
            style = base + self.get_component_rich_style("model-table--even")
        text = format_row(self.rows[index], self.columns)
        scroll_x = round(self.scroll_x)
        strip = Strip([Segment(text.ljust(width + scroll_x), style)])
        return strip.crop(scroll_x, scroll_x + width)

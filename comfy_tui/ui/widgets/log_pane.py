"""A log pane that follows a file: bounded (10k lines), coalesced bursts, follow mode, search,
long lines wrapped (or scrolled sideways).

The file is read by `services.logtail` (only the appended bytes, in a thread); each poll's
lines land in one `write_lines` call, and a burst bigger than the pane keeps only its tail,
so 50k lines a second never queue up thousands of updates.

Wrapping cuts each line into rows of the pane's width (a traceback's long line stays whole on
screen). The pane keeps each line's width in cells; the first row of every line is a running
sum over them, rebuilt only when the width changes or old lines are dropped, and a row is
found by bisection, so a 10k-line log re-wraps in one pass and draws only the rows on screen.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import re
from bisect import bisect_right
from collections.abc import Sequence

from rich.cells import cell_len
from rich.highlighter import Highlighter
from rich.text import Text
from textual.binding import Binding
from textual.events import Resize
from textual.geometry import Size
from textual.message import Message
from textual.strip import Strip
from textual.widgets import Log

MAX_LINES = 10_000
WIDTH_SAMPLE = 32
FEED_CHUNK = 1000
"""Lines `feed` adds between two turns of the event loop."""


class SearchHighlighter(Highlighter):
    """Marks every match of the current search term."""

    def __init__(self) -> None:
        self.pattern: re.Pattern[str] | None = None

    def highlight(self, text: Text) -> None:
        if self.pattern is not None:
            text.highlight_regex(self.pattern, "black on yellow")


def cells(line: str) -> int:
    """Width of a line as `Log` draws it (tabs expanded, control codes one cell each)."""
    if line.isascii():
        return len(line.expandtabs()) if "\t" in line else len(line)
    return cell_len(Log._process_line(line))


class LogPane(Log):
    """`Log` with a line cap, a follow switch, wrapping and find-next/previous."""

    BINDINGS = [
        Binding("home", "scroll_home", "Top", show=False),
        Binding("end", "scroll_end", "End", show=False),
    ]

    class Moved(Message):
        """Follow or wrap was switched by a key of the pane (Home/End)."""

    def __init__(
        self, *, max_lines: int = MAX_LINES, wrap: bool = True, id: str | None = None
    ) -> None:
        super().__init__(highlight=False, max_lines=max_lines, auto_scroll=True, id=id)
        self.search_highlighter = SearchHighlighter()
        self.highlighter = self.search_highlighter
        self.term = ""
        self.current: int | None = None  # the line of the match last jumped to
        self.received = 0  # lines handed to the pane (including ones pruned since)
        self.wrap = wrap
        self._cells: list[int] = []  # the width of each kept line
        self._starts: list[int] = []  # wrapped: the first row of each line (for `_wrap_width`)
        self._wrap_width = 0
        self.styles.overflow_x = "hidden" if wrap else "auto"

    def add_lines(self, lines: Sequence[str]) -> None:
        """Append one batch; only the part that can still be shown is processed."""
        self.received += len(lines)
        cap = self.max_lines or len(lines)
        shown = lines[-cap:] if len(lines) > cap else lines
        # split as `Log` will, and never hand it "" (it drops those)
        pieces = [p or " " for line in shown for p in (line.splitlines() or [" "])]
        pieces = pieces[-cap:]
        kept = len(self._lines) + len(pieces)
        dropped = max(0, kept - cap) if self.max_lines else 0
        del self._cells[:dropped]
        self._cells.extend(cells(p) for p in pieces)
        known = len(self._cells) - len(pieces)
        if self.wrap and self._wrap_width == self._width_for_wrap() and len(self._starts) == known:
            self._extend_starts(known)
        else:
            self._starts = []  # rebuilt when drawn or sized
        self.write_lines(pieces)

    # --- wrapping ---------------------------------------------------------------------------
    def _width_for_wrap(self) -> int:
        return max(1, self.scrollable_content_region.width)

    def _extend_starts(self, first: int) -> None:
        """Row starts of the lines from index `first` on (the earlier ones are known)."""
        width = self._wrap_width
        row = 0
        if first:
            row = self._starts[first - 1] + max(1, -(-self._cells[first - 1] // width))
        rows = (max(1, -(-c // width)) for c in self._cells[first:])
        self._starts.extend(itertools.accumulate(rows, initial=row))
        self._starts.pop()  # accumulate's last value is the total, not a start

    def _rows(self) -> int:
        """Rows the kept lines take (wrapped), rebuilding the row starts when stale."""
        if not self._cells:
            return 0
        width = self._width_for_wrap()
        if width != self._wrap_width or len(self._starts) != len(self._cells):
            self._wrap_width = width
            self._starts = []
            self._extend_starts(0)
        return self._starts[-1] + max(1, -(-self._cells[-1] // width))

    def _sync_size(self) -> None:
        if self.wrap:
            self.virtual_size = Size(self._width_for_wrap(), self._rows())
        else:
            self.virtual_size = Size(self._width, self.line_count)

    def _update_maximum_width(self, updates: int, size: int) -> None:
        if updates == self._updates:
            self._width = max(size, self._width)
        self._sync_size()

    def on_resize(self, event: Resize) -> None:
        if self.wrap:
            self._sync_size()
            if self.follow:
                self.scroll_end(animate=False, immediate=True, x_axis=False)

    def set_wrap(self, on: bool) -> None:
        """Wrap long lines, or keep each on one row and scroll sideways. The line at the top
        stays at the top."""
        top = self.line_at_top()
        self.wrap = on
        self.styles.overflow_x = "hidden" if on else "auto"
        self._starts = []
        self._sync_size()
        self.scroll_to(x=0, y=self.row_of(top), animate=False, immediate=True)
        if self.follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        self.refresh()

    def row_of(self, line: int) -> int:
        """The first row line `line` is drawn on."""
        if not self.wrap or not self._cells:
            return line
        self._rows()
        return self._starts[min(line, len(self._starts) - 1)]

    def line_at_top(self) -> int:
        row = int(self.scroll_y)
        if not self.wrap or not self._cells:
            return row
        self._rows()
        return max(0, bisect_right(self._starts, row) - 1)

    def render_line(self, y: int) -> Strip:
        if not self.wrap:
            return super().render_line(y)
        width = self.size.width
        rows = self._rows()
        row = int(self.scroll_y) + y
        rich_style = self.rich_style
        if row >= rows or not self._cells:
            return Strip.blank(width, rich_style)
        line = bisect_right(self._starts, row) - 1
        start = (row - self._starts[line]) * self._wrap_width
        strip = self._render_line_strip(line, rich_style)
        cut = strip.crop_extend(start, start + self._wrap_width, rich_style)
        return cut.extend_cell_length(width, rich_style).apply_offsets(start, line)

    # --- keys -------------------------------------------------------------------------------
    def action_scroll_home(self) -> None:
        """Home: the oldest line kept, at the left edge (and stop following)."""
        self.set_follow(False)
        self.scroll_to(x=0, y=0, animate=False)
        self.post_message(self.Moved())

    def action_scroll_end(self) -> None:
        """End: the newest line, and follow."""
        self.set_follow(True)
        self.scroll_to(x=0, animate=False)
        self.post_message(self.Moved())

    async def feed(self, lines: Sequence[str], chunk: int = FEED_CHUNK) -> None:
        """`add_lines` in slices of `chunk` lines, the event loop getting a turn between them:
        a burst of tens of thousands of lines does not stall it."""
        cap = self.max_lines or len(lines)
        if len(lines) > cap:  # what would be pruned at once is never processed
            self.received += len(lines) - cap
            lines = lines[-cap:]
        for start in range(0, len(lines), chunk):
            self.add_lines(lines[start : start + chunk])
            await asyncio.sleep(0)

    def _update_size(self, updates: int, lines: list[str]) -> None:  # type: ignore[override]
        """Width of the new lines, measured on the longest few only, inline.

        Replaces `Log`'s thread worker, which measures every line of every batch (a thread per
        batch, tens of ms of GIL for 10k lines): a burst would stall the loop it shares a GIL
        with. Lines are ASCII mostly, so the longest by `len` are the widest by cells.
        """
        if lines:
            longest = heapq.nlargest(WIDTH_SAMPLE, lines, key=len)
            width = max(cell_len(self._process_line(line)) for line in longest)
            self._update_maximum_width(updates, width)
        else:
            self._sync_size()

    @property
    def follow(self) -> bool:
        return self.auto_scroll

    def set_follow(self, on: bool) -> None:
        self.auto_scroll = on
        if on:
            self.scroll_end(animate=False)

    def set_term(self, term: str) -> None:
        """Highlight `term` (case-insensitive); an empty term clears the highlight."""
        self.term = term
        self.current = None
        self.search_highlighter.pattern = re.compile(re.escape(term), re.I) if term else None
        self.highlight = bool(term)
        self.notify_style_update()
        self.refresh()

    def matches(self) -> list[int]:
        if not self.term:
            return []
        needle = self.term.lower()
        return [i for i, line in enumerate(self.lines) if needle in line.lower()]

    def find(self, forward: bool = True) -> tuple[int, int] | None:
        """Scroll to the next (or previous) match, wrapping; (its number, total) or None.

        The first jump of a search starts at the top line on screen.
        """
        found = self.matches()
        if not found:
            return None
        if self.current is None:
            top = self.line_at_top()
            after = [i for i in found if i >= top] if forward else []
            before = [i for i in found if i <= top] if not forward else []
        else:
            after = [i for i in found if i > self.current]
            before = [i for i in found if i < self.current]
        line = (
            (after[0] if after else found[0]) if forward else (before[-1] if before else found[-1])
        )
        self.current = line
        self.set_follow(False)
        self.scroll_to(y=max(0, self.row_of(line) - self.size.height // 3), animate=False)
        return found.index(line) + 1, len(found)

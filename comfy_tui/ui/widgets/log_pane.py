"""A log pane that follows a file: bounded (10k lines), coalesced bursts, follow mode, search.

The file is read by `services.logtail` (only the appended bytes, in a thread); each poll's
lines land in one `write_lines` call, and a burst bigger than the pane keeps only its tail,
so 50k lines a second never queue up thousands of updates.
"""

from __future__ import annotations

import asyncio
import heapq
import re
from collections.abc import Sequence

from rich.cells import cell_len
from rich.highlighter import Highlighter
from rich.text import Text
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


class LogPane(Log):
    """`Log` with a line cap, a follow switch and find-next/previous."""

    def __init__(self, *, max_lines: int = MAX_LINES, id: str | None = None) -> None:
        super().__init__(highlight=False, max_lines=max_lines, auto_scroll=True, id=id)
        self.search_highlighter = SearchHighlighter()
        self.highlighter = self.search_highlighter
        self.term = ""
        self.current: int | None = None  # the line of the match last jumped to
        self.received = 0  # lines handed to the pane (including ones pruned since)

    def add_lines(self, lines: Sequence[str]) -> None:
        """Append one batch; only the part that can still be shown is processed."""
        self.received += len(lines)
        cap = self.max_lines or len(lines)
        shown = lines[-cap:] if len(lines) > cap else lines
        self.write_lines([line or " " for line in shown])  # Log drops "" (splitlines)

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
            top = int(self.scroll_y)
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
        self.scroll_to(y=max(0, line - self.size.height // 3), animate=False)
        return found.index(line) + 1, len(found)

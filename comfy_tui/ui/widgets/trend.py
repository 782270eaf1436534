"""`Trend`: Textual's `Sparkline` widget drawn on an honest scale, cheap to keep on screen.

Textual's sparkline stretches the data between its own minimum and maximum, so 1-3 %
of idle noise would look like a full swing. A `Trend` keeps zero at the bottom and a
fixed top (100 for percentages, the card's total for memory, or the largest value
shown for throughputs). Each column is the peak of ``k`` consecutive samples, on fixed
boundaries of the samples' absolute index (`History.pushed`), newest on the right;
``k`` grows as history fills so the graph spans all of it (at least `MIN_WINDOW`
samples, at most the 10 minutes History keeps). Because boundaries do not move and
the widget repaints only when a column's drawn height changes, a quiet graph sends
nothing to the terminal, and a busy one shifts once per ``k`` ticks instead of every tick.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from rich.color import Color as RichColor
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.reactive import reactive
from textual.widgets import Sparkline

from comfy_tui.services.monitor import History

BARS = "▁▂▃▄▅▆▇█"
MIN_WINDOW = 60
"""Samples a graph spans at least (a minute at 1 Hz): columns are never thinner."""


def columns(
    series: Sequence[float], pushed: int, width: int, min_window: int = MIN_WINDOW
) -> list[float | None]:
    """``series`` (the newest points; ``pushed`` counted in all) as ``width`` column peaks.

    A column covers the absolute sample indices ``[b*k, (b+1)*k)``; columns without a
    point are ``None``.
    """
    n = len(series)
    if width <= 0:
        return []
    if n == 0:
        return [None] * width
    k = max(1, math.ceil(max(n, min_window) / width))
    first = pushed - n
    last_bucket = (pushed - 1) // k
    result: list[float | None] = []
    for bucket in range(last_bucket - width + 1, last_bucket + 1):
        lo, hi = max(bucket * k, first), min((bucket + 1) * k, pushed)
        result.append(max(series[lo - first : hi - first]) if hi > lo else None)
    return result


def levels(values: Sequence[float | None], top: float, height: int) -> tuple[int | None, ...]:
    """Each value's height in eighths of a row (1 .. 8*height); ``None`` stays blank."""
    total = len(BARS) * max(1, height)
    top = top if top > 0 else 1.0
    out: list[int | None] = []
    for value in values:
        if value is None:
            out.append(None)
            continue
        ratio = max(0.0, min(1.0, value / top)) if math.isfinite(value) else 0.0
        out.append(max(1, math.ceil(ratio * total)))
    return tuple(out)


class ScaledSparkline:
    """The renderable: one column per level, ``height`` rows, one style per row.

    A single colour (and blanks in that same style) makes each row one segment, so a
    repaint costs one colour code per row instead of one per change of height: over
    SSH that is most of the bytes a graph sends.
    """

    def __init__(self, picture: Sequence[int | None], *, height: int, color: RichColor) -> None:
        self.picture = picture
        self.height = max(1, height)
        self.style = Style(color=color)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        per_row = len(BARS)
        for row in reversed(range(self.height)):
            chars = []
            for level in self.picture:
                fill = 0 if level is None else level - row * per_row
                chars.append(" " if fill <= 0 else "█" if fill >= per_row else BARS[fill - 1])
            yield Segment("".join(chars), self.style)
            if row:
                yield Segment.line()


class Trend(Sparkline):
    """A zero-based sparkline of one `History` series; ``top=None`` scales to the largest
    value shown (but at least ``min_top``, so a quiet link does not fill the graph)."""

    DEFAULT_CSS = """
    Trend { width: 1fr; height: 1; }
    """

    picture: reactive[tuple[int | None, ...]] = reactive[tuple[int | None, ...]](())
    """What is drawn: one level per column. The widget repaints only when this changes."""

    def __init__(
        self,
        *,
        top: float | None = 100.0,
        min_top: float = 1.0,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(None, id=id, classes=classes)
        self.top = top
        self.min_top = min_top
        self._series: Sequence[float] = ()
        self._pushed = 0

    def show(self, history: History, key: str, top: float | None = None) -> None:
        """Plot series ``key`` of ``history`` (``top`` replaces the scale's top if given)."""
        if top is not None:
            self.top = top
        self._series, self._pushed = history.series(key), history.pushed(key)
        self._redraw()

    def on_resize(self, event: events.Resize) -> None:
        self._redraw()

    def _redraw(self) -> None:
        width, height = self.size.width, self.size.height
        values = columns(self._series, self._pushed, width)
        top = self.top
        if top is None:
            top = max([self.min_top, *(v for v in values if v is not None)])
        self.picture = levels(values, top, height)

    def render(self) -> ScaledSparkline:
        _, base = self.background_colors
        color = base + (
            self.get_component_styles("sparkline--max-color").color
            if self.max_color is None
            else self.max_color
        )
        return ScaledSparkline(self.picture, height=self.size.height, color=color.rich_color)

"""`Meter`: one line ``label ━━━━━━━╸━━━━ value``; the bar fills whatever width is left.

The bar has half-cell resolution and the widget repaints only when what it draws
changes (the lit half-cells, the colour or the value text): every repaint costs bytes
on an SSH link.
"""

from __future__ import annotations

from textual import events
from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

_STYLES = ("$accent", "$warning", "$error")


def _style_index(fraction: float, warn: bool) -> int:
    if warn and fraction >= 0.95:
        return 2
    if warn and fraction >= 0.8:
        return 1
    return 0


class Meter(Widget):
    """A labelled horizontal bar with its value after it; ``fraction=None`` draws a dashed
    empty bar. Taller than one line, it draws on the bottom line.

    ``warn`` colours the bar amber from 80 % and red from 95 % (for memory and disks,
    where full is a problem; utilisation bars stay one colour).
    """

    DEFAULT_CSS = """
    Meter { height: 1; width: 1fr; }
    """

    label: reactive[str] = reactive("")
    value: reactive[str] = reactive("")
    drawn: reactive[tuple[int, int] | None] = reactive[tuple[int, int] | None](None)
    """(lit half-cells, colour index), or ``None`` for "no reading"."""

    def __init__(
        self,
        label: str,
        *,
        label_width: int = 5,
        value_width: int = 5,
        warn: bool = False,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.set_reactive(Meter.label, label)
        self.label_width = label_width
        self.value_width = value_width
        self.warn = warn
        self.fraction: float | None = None

    @property
    def bar_width(self) -> int:
        """Cells the bar gets: what the label and the value leave."""
        return max(0, self.size.width - self.label_width - self.value_width - 2)

    def show(self, fraction: float | None, value: str) -> None:
        """Set the bar (0..1 or ``None``) and the value text."""
        self.fraction = None if fraction is None else max(0.0, min(1.0, fraction))
        self.value = value
        self._update_drawn()

    def on_resize(self, event: events.Resize) -> None:
        self._update_drawn()

    def _update_drawn(self) -> None:
        frac = self.fraction
        if frac is None:
            self.drawn = None
        else:
            self.drawn = (round(frac * self.bar_width * 2), _style_index(frac, self.warn))

    def render(self) -> Content:
        label = self.label[: self.label_width].ljust(self.label_width)
        value = self.value.ljust(self.value_width)
        width = self.bar_width
        if self.drawn is None:
            bar = Content.styled("╌" * width, "$text-muted 40%")
        else:
            halves, style = self.drawn
            full, half = divmod(min(halves, width * 2), 2)
            rest = width - full - half
            bar = Content.assemble(
                ("━" * full + ("╸" if half else ""), _STYLES[style]),
                ("━" * rest, "$foreground 15%"),
            )
        # the spaces ride in the neighbouring runs: one colour code fewer per repaint
        line = Content.assemble((label + " ", "$text-muted"), bar, " " + value)
        if self.size.height > 1:  # sit on the baseline of a taller trend beside it
            return Content("\n" * (self.size.height - 1)) + line
        return line

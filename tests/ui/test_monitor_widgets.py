"""The Monitor screen's small widgets: honest sparkline scale, meters, change-checked text."""

from __future__ import annotations

from rich.color import Color
from rich.console import Console
from textual.app import App, ComposeResult

from comfy_tui.services.monitor import History
from comfy_tui.ui.widgets.card import Line
from comfy_tui.ui.widgets.meter import Meter
from comfy_tui.ui.widgets.trend import ScaledSparkline, Trend, columns, levels


def draw(spark: ScaledSparkline) -> list[str]:
    console = Console(width=80, color_system=None, legacy_windows=False)
    with console.capture() as capture:
        console.print(spark, end="")
    return capture.get().split("\n")


def spark(data: list[float], width: int = 6, height: int = 1, top: float = 100.0) -> list[str]:
    """One point per column (fewer than a window's worth of points)."""
    white = Color.parse("white")
    values = columns(data, len(data), width, min_window=1)
    picture = levels(values, top, height)
    return draw(ScaledSparkline(picture, height=height, color=white))


def test_sparkline_scale_starts_at_zero_and_is_fixed() -> None:
    assert spark([1.0, 2.0, 3.0]) == ["   ▁▁▁"], "idle noise stays at the bottom"
    assert spark([0.0, 50.0, 100.0]) == ["   ▁▄█"]
    assert spark([0.0, 200.0], width=2) == ["▁█"], "values above the top are clipped"


def test_sparkline_is_right_aligned_and_keeps_the_newest() -> None:
    assert spark([100.0] * 2 + [0.0] * 2, width=4) == ["██▁▁"]
    # more points than columns: each column is the peak of two
    assert spark([0.0, 0.0, 100.0, 0.0, 0.0, 0.0, 100.0, 100.0], width=4) == ["▁█▁█"]
    assert spark([], width=3) == ["   "]


def test_sparkline_two_rows() -> None:
    assert spark([0.0, 50.0, 100.0], width=3, height=2) == ["  █", "▁██"]


def test_columns_are_peaks_on_fixed_boundaries() -> None:
    # 9 points, 4 columns, a window of at least 12 points: 3 points per column
    series = [float(i) for i in range(9)]
    assert columns(series, 9, 4, min_window=12) == [None, 2.0, 5.0, 8.0]
    # one more point opens a new column; the old ones do not move
    assert columns([*series, 9.0], 10, 4, min_window=12) == [2.0, 5.0, 8.0, 9.0]
    # the newest points alone (the ring buffer dropped the rest) sit on the same boundaries
    assert columns(series[-4:], 9, 4, min_window=12) == [None, None, 5.0, 8.0]
    # more points than the window: columns widen so the graph spans all of them
    assert columns([float(i) for i in range(10)], 10, 4, min_window=8) == [2.0, 5.0, 8.0, 9.0]
    # history longer than the window: columns widen so the graph spans all of it
    long = [1.0] * 600
    assert columns(long, 600, 30) == [1.0] * 30
    assert columns([], 0, 3) == [None, None, None]
    assert columns([1.0], 1, 0) == []


def test_levels_keep_zero_visible_and_clip() -> None:
    assert levels([0.0, 0.1, 50.0, 100.0, 1e9, None, float("nan")], 100.0, 1) == (
        1,
        1,
        4,
        8,
        8,
        None,
        1,
    )
    assert levels([50.0], 100.0, 2) == (8,)
    assert levels([5.0], 0.0, 1) == (8,), "a zero top counts as 1"


class One(App[None]):
    def __init__(self, widget: object) -> None:
        super().__init__()
        self.widget = widget

    def compose(self) -> ComposeResult:
        yield self.widget  # type: ignore[misc]


async def test_meter_draws_bar_value_and_na() -> None:
    meter = Meter("util", value_width=4)
    async with One(meter).run_test(size=(30, 3)) as pilot:
        meter.show(0.5, "50%")
        await pilot.pause()
        text = meter.render().plain
        assert text.startswith("util  ") and text.endswith(" 50% ")
        bar = text[6:-5]
        assert bar == "━" * 9 + "╸" + "━" * 9, "19 cells, half of them (and a half) lit"
        spans = meter.render().spans
        assert any(str(span.style) == "$accent" and span.end - span.start == 10 for span in spans)
        meter.show(None, "n/a")
        await pilot.pause()
        assert "╌" in meter.render().plain and meter.render().plain.endswith("n/a ")
        meter.show(0.3, "30%")
        drawn = meter.drawn
        meter.show(0.301, "30%")
        assert meter.drawn == drawn, "a change smaller than half a cell does not repaint"
        meter.show(0.9, "90%")
        assert meter.drawn != drawn


async def test_trend_uses_the_widget_width_and_an_automatic_top() -> None:
    trend = Trend(top=None, min_top=10.0)
    history = History()
    async with One(trend).run_test(size=(8, 2)) as pilot:
        for value in (5.0, 10.0, 20.0):
            history.push("x", value)
        trend.show(history, "x")
        await pilot.pause()
        assert len(trend.picture) == 8, "one level per column"
        # 3 points in a window of 60 on 8 columns: 8 points per column, one column
        assert draw(trend.render()) == ["       █"], "the top is the largest value shown"
        for _ in range(60):
            history.push("x", 0.0)
        picture = trend.picture
        trend.show(history, "x")
        assert trend.picture != picture
        picture = trend.picture
        history.push("x", 0.0)
        trend.show(history, "x")
        assert trend.picture == picture, "a quiet tick inside a column changes nothing"


async def test_line_repaints_only_on_change() -> None:
    line = Line("a")
    async with One(line).run_test(size=(20, 3)) as pilot:
        calls = []
        original = line.update
        line.update = lambda *a, **k: (calls.append(a), original(*a, **k))  # type: ignore[method-assign]
        line.show("a")
        line.show("b")
        line.show("b")
        await pilot.pause()
        assert len(calls) == 1 and line.text == "b"

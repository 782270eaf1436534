"""The anchor of the TUI benches: a bare Textual app (a header line, a text, a footer).

`python bench/bare_app.py [--tick]`: with ``--tick`` it also updates one Static and one
Sparkline every second, the least a live monitor could do.
"""

from __future__ import annotations

import random
import sys

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widgets import Footer, Sparkline, Static

READY = "bench-app-ready"


class BareApp(App[None]):
    BINDINGS = [Binding("ctrl+q", "quit", "Quit"), Binding("q", "quit", "Quit")]

    def __init__(self, tick: bool) -> None:
        super().__init__()
        self.tick = tick
        self.values: list[float] = [0.0] * 60

    def compose(self) -> ComposeResult:
        yield Static("bare textual app")
        yield Static(READY, id="value")
        yield Sparkline(self.values, id="trend")
        yield Footer()

    def on_mount(self) -> None:
        if self.tick:
            self.set_interval(1.0, self.update_value)

    def update_value(self) -> None:
        value = random.random() * 100
        self.values = [*self.values[1:], value]
        self.query_one("#value", Static).update(f"{value:5.1f} %")
        self.query_one("#trend", Sparkline).data = self.values


if __name__ == "__main__":
    BareApp(tick="--tick" in sys.argv).run()

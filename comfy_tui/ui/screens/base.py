"""The frame every mode screen shares: header strip, body, footer with the bindings."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import ComposeResult
from textual.screen import Screen
from textual.timer import Timer

from comfy_tui.ui.keys import Key, bindings
from comfy_tui.ui.widgets.footer import ComfyFooter
from comfy_tui.ui.widgets.status_strip import StatusStrip

if TYPE_CHECKING:  # the readings' module is imported with the sampler, after the first frame
    from comfy_tui.services.monitor import StatsSample
    from comfy_tui.ui.app import ComfyTuiApp


class ModeScreen(Screen[None]):
    """A top-level area (Versions, Models, Monitor). Subclasses fill `compose_body`."""

    MODE_TITLE: ClassVar[str] = ""
    KEYS: ClassVar[tuple[Key, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        cls.BINDINGS = bindings(cls.KEYS)  # before Textual merges the class's bindings
        super().__init_subclass__(**kwargs)

    @property
    def comfy_app(self) -> ComfyTuiApp:
        from comfy_tui.ui.app import ComfyTuiApp

        app = self.app
        assert isinstance(app, ComfyTuiApp)
        return app

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shown_every: list[tuple[float, Callable[[], Awaitable[None] | None]]] = []
        self.shown_timers: list[Timer] = []
        """The timers of `every`, running only while this screen is the one shown."""

    def every(self, seconds: float, callback: Callable[[], Awaitable[None] | None]) -> None:
        """Call ``callback`` every ``seconds`` while this screen shows; a hidden screen has no
        timer at all (it is stopped when the screen is left and made again on return)."""
        self._shown_every.append((seconds, callback))
        if self.is_current:
            self.shown_timers.append(self.set_interval(seconds, callback))

    def on_screen_suspend(self) -> None:
        for timer in self.shown_timers:
            timer.stop()
        self.shown_timers = []

    def compose(self) -> ComposeResult:
        yield StatusStrip(self.MODE_TITLE, self.comfy_app.summary_text)
        yield from self.compose_body()
        yield ComfyFooter()

    def compose_body(self) -> ComposeResult:
        yield from ()

    # --- the header summary, refreshed every monitor tick while this screen shows -------
    def on_mount(self) -> None:
        self.comfy_app.stats.updates.subscribe(self, self._update_summary)
        self.comfy_app.state.changes.subscribe(self, self._state_changed)

    def _state_changed(self, areas: frozenset[str]) -> None:
        if self.is_current:
            self.on_state_changed(areas)

    def on_state_changed(self, areas: frozenset[str]) -> None:
        """Shared state changed (here or in another shell): re-read what this screen shows.
        `areas` names what changed: instances, versions, library, nodes."""

    def on_screen_resume(self) -> None:
        self.query_one(StatusStrip).summary = self.comfy_app.summary_text
        if not self.shown_timers:
            self.shown_timers = [self.set_interval(s, c) for s, c in self._shown_every]

    def _update_summary(self, sample: StatsSample) -> None:
        if self.is_current:
            self.query_one(StatusStrip).summary = self.comfy_app.summary_text

    def show_error(self, title: str, exc: BaseException) -> None:
        """Open the full error dialog (causes, fix, log; `c` saves it) over this screen."""
        self.app.push_screen(self.comfy_app.error_screen(title, exc))

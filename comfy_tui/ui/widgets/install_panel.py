"""Running installs: one panel each, with a weighted progress bar, the step, and a log tail.

`InstallPanels` follows the App's `JobKind.INSTALL` jobs (`follow` takes each `JobUpdate`),
adds a panel when an install starts and removes it when it ends. Each `InstallPanel` keeps the
last 200 log lines. Cancelling is the screen's `c` key. The bar and log widgets are imported
when a panel is first drawn (an install runs), not before the first frame.
"""

from __future__ import annotations

from collections import deque

from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.css.query import NoMatches

from comfy_tui.events import Event, Finished, LogLine, Progress
from comfy_tui.runner import JobKind, JobStatus, JobUpdate

LOG_LINES = 200


class InstallPanel(Vertical):
    """`Installing v0.4.0 · torch auto` with a bar, a step line and a scrolling log tail."""

    DEFAULT_CSS = """
    InstallPanel { height: auto; }
    InstallPanel > .install-row { height: 1; }
    InstallPanel > ProgressBar { width: 1fr; }
    InstallPanel > ProgressBar > Bar { width: 1fr; }
    InstallPanel > Log { height: 3; overflow-x: hidden; }
    """

    def __init__(self, tag: str, torch: str = "auto") -> None:
        super().__init__(classes="install-panel")
        self.tag = tag
        self.torch = torch
        self.fraction = 0.0
        self.step_text = "starting…"
        self._pending: deque[str] = deque(maxlen=LOG_LINES)  # lines not yet in the Log widget
        self._ready = False
        self._sync_due = False
        self._shown: tuple[float, str] | None = None  # (fraction, step) last drawn
        self.border_title = f"Installing {tag} · torch {torch}"
        self.border_subtitle = "c cancel"

    @property
    def drawn(self) -> bool:
        """Everything applied so far is on screen (no batch waits for the next frame)."""
        return self._ready and not self._sync_due and not self._pending

    def compose(self) -> ComposeResult:
        from textual.widgets import Label, Log, ProgressBar

        yield ProgressBar(total=100, show_eta=False, classes="install-row")
        yield Label(self.step_text, classes="install-row install-step", markup=False)
        log = Log(max_lines=LOG_LINES, classes="install-log")
        log.can_focus = False  # the table keeps the keys; the log only shows
        yield log

    def on_mount(self) -> None:
        self._ready = True
        self._sync()

    def apply(self, event: Event) -> None:
        """Show one service event (kept until the panel is mounted).

        Events are folded into the panel's state at once and drawn together, once per burst:
        an install can print thousands of lines in a second."""
        if isinstance(event, Progress):
            self.fraction = event.fraction
            self.step_text = f"{event.step} — {event.detail}" if event.detail else event.step
        elif isinstance(event, LogLine):
            prefix = f"{event.source}: " if event.source else ""
            self._pending.append(f"{prefix}{event.text}")
        elif isinstance(event, Finished):
            self.fraction, self.step_text = 1.0, "done"
        if self._ready and not self._sync_due:
            self._sync_due = True
            self.call_after_refresh(self._sync)

    def _sync(self) -> None:
        self._sync_due = False
        if not self._ready:
            return
        from textual.widgets import Label, Log, ProgressBar

        try:
            bar, step, log = (
                self.query_one(ProgressBar),
                self.query_one(".install-step", Label),
                self.query_one(Log),
            )
        except NoMatches:  # being removed
            return
        if self._shown != (self.fraction, self.step_text):
            self._shown = (self.fraction, self.step_text)
            bar.update(progress=self.fraction * 100)
            step.update(self.step_text)
        if self._pending:
            log.write_lines(self._pending)
            self._pending.clear()


class InstallPanels(VerticalScroll, can_focus=False):
    """The stack of running installs, keyed by tag."""

    DEFAULT_CSS = """
    InstallPanels { height: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.panels: dict[str, InstallPanel] = {}

    def fractions(self) -> dict[str, float]:
        return {tag: panel.fraction for tag, panel in self.panels.items()}

    def add(self, tag: str, torch: str = "auto") -> InstallPanel:
        """The panel of `tag`, mounted now if it is new."""
        panel = self.panels.get(tag)
        if panel is None:
            panel = InstallPanel(tag, torch)
            self.panels[tag] = panel
            self.mount(panel)
        return panel

    def follow(self, update: JobUpdate) -> tuple[str, JobStatus] | None:
        """Show one update of an install job: (tag, state) for an install job, else None."""
        if update.key.kind is not JobKind.INSTALL:
            return None
        tag = update.key.id
        panel = self.add(tag) if update.state == "running" else self.panels.pop(tag, None)
        if panel is not None and update.event is not None:
            panel.apply(update.event)
        if update.state != "running" and panel is not None:
            panel.remove()
        return tag, update.state

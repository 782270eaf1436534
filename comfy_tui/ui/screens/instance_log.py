"""The log view of one instance: tails `logs/<id>.log` without ever re-reading it whole.

Opens on the last 10k lines (read backwards from the end), then follows what is appended.
Long lines are wrapped (`w` switches to sideways scrolling); `f` toggles follow, Home/`g`
go to the top, End/`G` to the bottom and follow, `/` searches (matches highlighted), `n`/`N`
jump between matches. The status line always says whether the view follows and wraps.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input, Label

from comfy_tui.services.logtail import LogTail, last_lines
from comfy_tui.store.instance_records import InstanceRecord
from comfy_tui.ui.keys import Key, bindings
from comfy_tui.ui.widgets.footer import ComfyFooter
from comfy_tui.ui.widgets.log_pane import MAX_LINES, LogPane

POLL_S = 0.1

LOG_KEYS: tuple[Key, ...] = (
    Key("log-follow", "f", "toggle_follow", "Follow", "Follow new lines, or stay where you are"),
    Key("log-search", "slash", "search", "Search", "Find text in the log (enter to jump)"),
    Key("log-next", "n", "find(True)", "Next", "Jump to the next match"),
    Key("log-previous", "N", "find(False)", "Previous", "Jump to the previous match"),
    Key("log-wrap", "w", "toggle_wrap", "Wrap", "Wrap long lines, or scroll them sideways"),
    Key("log-top", "g", "top", "Top", "Go to the oldest line kept (Home too)"),
    Key("log-end", "G", "end", "End", "Go to the newest line and follow (End too)"),
    Key("log-close", "escape", "close", "Back", "Close the log and go back to the instances"),
)


class InstanceLogScreen(Screen[None]):
    """Pushed over the Instances screen; its tail worker ends when it is closed."""

    MODE_TITLE = "Instance log"
    KEYS: ClassVar[tuple[Key, ...]] = LOG_KEYS
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = bindings(LOG_KEYS)
    AUTO_FOCUS = "#log-pane"

    def __init__(self, record: InstanceRecord, *, poll_s: float = POLL_S) -> None:
        super().__init__()
        self.record = record
        self.path = Path(record.log_path)
        self.poll_s = poll_s
        self.status_text = ""

    def compose(self) -> ComposeResult:
        r = self.record
        title = f" Log · {r.id} · ComfyUI {r.version} · port {r.port} · {self.path.name}"
        yield Label(title, id="log-title", markup=False)
        yield LogPane(id="log-pane")
        yield Input(placeholder="search (enter jumps, escape closes)", id="log-search")
        yield Label("", id="log-status", markup=False)
        yield ComfyFooter()

    @property
    def pane(self) -> LogPane:
        return self.query_one(LogPane)

    def on_mount(self) -> None:
        self.query_one("#log-search", Input).display = False
        self._show_status()
        self._tail()

    @work(group="log:tail", exclusive=True, exit_on_error=False)
    async def _tail(self) -> None:
        lines, offset = await asyncio.to_thread(last_lines, self.path, MAX_LINES)
        await self.pane.feed(lines)
        self._show_status()
        tail = LogTail(self.path, start=offset)
        async for batch in tail.follow(self.poll_s):
            await self.pane.feed(batch)
            self._show_status()

    def _show_status(self, extra: str = "") -> None:
        pane = self.pane
        mode = "following" if pane.follow else "paused (f follows)"
        wrap = "wrapped (w: one row each)" if pane.wrap else "not wrapped (w wraps)"
        text = f" {mode} · {wrap} · {pane.line_count:,} lines kept"
        if extra:
            text += f" · {extra}"
        if text != self.status_text:
            self.status_text = text
            self.query_one("#log-status", Label).update(text)

    # --- actions ----------------------------------------------------------------------------
    def action_toggle_follow(self) -> None:
        self.pane.set_follow(not self.pane.follow)
        self._show_status()

    def action_toggle_wrap(self) -> None:
        self.pane.set_wrap(not self.pane.wrap)
        self._show_status()

    def action_top(self) -> None:
        self.pane.action_scroll_home()

    def action_end(self) -> None:
        self.pane.action_scroll_end()

    def on_log_pane_moved(self, event: LogPane.Moved) -> None:
        self._show_status()

    def action_search(self) -> None:
        box = self.query_one("#log-search", Input)
        box.display = True
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.pane.set_term(event.value.strip())
        self.pane.focus()
        event.input.display = False
        self.action_find(True)

    def action_find(self, forward: bool) -> None:
        if not self.pane.term:
            self._show_status("press / to search")
            return
        found = self.pane.find(forward)
        if found is None:
            self._show_status(f"no match for '{self.pane.term}'")
        else:
            self._show_status(f"match {found[0]} of {found[1]} for '{self.pane.term}'")

    def action_close(self) -> None:
        box = self.query_one("#log-search", Input)
        if box.display:
            box.display = False
            self.pane.focus()
            return
        self.dismiss(None)

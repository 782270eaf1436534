"""ComfyTuiApp: the modes, the global keys, the palette, and the jobs that outlive screens."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
import sys
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.signal import Signal
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from comfy_tui import __version__
from comfy_tui.errors import ComfyTuiError
from comfy_tui.events import Event
from comfy_tui.paths import styles_dir
from comfy_tui.runner import JobKey, JobKind, JobUpdate
from comfy_tui.services.container import Services
from comfy_tui.ui.downloads_feed import DownloadsChanged, DownloadsFeed
from comfy_tui.ui.jobs import JobUpdatePosted, is_job, job_group, pump
from comfy_tui.ui.keys import GLOBAL_KEYS, bindings
from comfy_tui.ui.screens.versions import VersionsScreen
from comfy_tui.ui.state_feed import StateFeed
from comfy_tui.ui.stats_feed import FEED_GROUP, UNTOUCHED_AFTER_S, StatsFeed, StatsSampled

if TYPE_CHECKING:  # the dialogs below are imported when first opened, not before the first frame
    from textual.command import Provider

    from comfy_tui.services.notify.notice import Notice
    from comfy_tui.ui.dialogs.error import ErrorScreen
    from comfy_tui.ui.dialogs.help import HelpRow

log = logging.getLogger(__name__)

QUIT_DIALOG_ID = "quit-question"
MODAL_BLOCKED = frozenset({"switch_mode", "request_quit"})
"""App actions a key cannot start while a dialog (a modal screen) is open (`?` still lists
the dialog's own keys)."""

STYLESHEETS = ("app.tcss", "versions.tcss")
"""What the first screen needs: Textual parses every loaded stylesheet before the first frame.
A later screen's own stylesheets (`LATER_STYLESHEETS`) load when it is first shown, and the
dialogs' with the first of them (`ui/dialogs: DIALOG_CSS`, `VERSION_DIALOG_CSS`)."""

LATER_SCREENS = {
    "models": "comfy_tui.ui.screens.models:ModelsScreen",
    "monitor": "comfy_tui.ui.screens.monitor:MonitorScreen",
    "instances": "comfy_tui.ui.screens.instances:InstancesScreen",
    "nodes": "comfy_tui.ui.screens.nodes:NodesScreen",
    "fleet": "comfy_tui.ui.screens.fleet:FleetScreen",
}
"""Screens imported when first shown (or preloaded after the first frame), not at start:
their services pull in aiohttp, SQLite and psutil, which the first screen does not need."""

LATER_STYLESHEETS = {
    "models": ("models.tcss",),
    "monitor": ("monitor.tcss",),
    "instances": ("instances.tcss",),
    "nodes": ("nodes.tcss",),
    "fleet": ("fleet.tcss", "instances.tcss", "models.tcss"),  # launch, add-download dialogs
}
"""Stylesheets Textual loads when the mode's screen is first shown (its dialogs' rules too)."""


def _later(mode: str, target: str) -> Callable[[], Screen[Any]]:
    module, name = target.split(":")

    def make() -> Screen[Any]:
        screen_class: Callable[[], Screen[Any]] = getattr(importlib.import_module(module), name)
        screen = screen_class()
        screen.css_path = [styles_dir() / sheet for sheet in LATER_STYLESHEETS[mode]]
        return screen

    return make


def _palette_commands() -> type[Provider]:
    """The palette's own commands, imported when the palette first opens."""
    from comfy_tui.ui.commands import ComfyCommands

    return ComfyCommands


def _first_screen() -> Screen[Any]:
    """The first screen, marked as styled by the stylesheet as it stands when it is mounted.

    Textual parses every stylesheet to mount the first screen and then, as the screen has never
    seen a CSS refresh, drops that work and parses them all again (`refresh_css`) with the same
    variables (the theme is pinned before the app runs) and sources; the parse cache it would
    reuse for the screen's widgets is dropped with it. Marking the screen as up to date with
    the app's CSS counter (Textual's own) skips that second parse: a third of the CSS work
    before the first frame. A later theme change refreshes it as usual."""
    screen = VersionsScreen()
    screen._css_update_count = screen.app._css_update_count
    return screen


def _preload_screens() -> None:
    for target in LATER_SCREENS.values():
        importlib.import_module(target.split(":")[0])


class ComfyTuiApp(App[int]):
    """The full-screen app. Build it with `comfy_tui.ui.factory.make_app`."""

    TITLE = "comfy-tui"
    SUB_TITLE = __version__
    CSS_PATH = [styles_dir() / name for name in STYLESHEETS]
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {
        "versions": _first_screen,
        **{mode: _later(mode, target) for mode, target in LATER_SCREENS.items()},
    }
    DEFAULT_MODE: ClassVar[str] = "versions"
    BINDINGS = bindings(GLOBAL_KEYS)
    COMMANDS = App.COMMANDS | {_palette_commands}

    def __init__(self, services: Services, *, sampling: bool = True) -> None:
        """``sampling=False`` leaves the monitor sampler off until `stats.start()` (tests)."""
        super().__init__()
        self.services = services
        self.job_updates: Signal[JobUpdate] = Signal(self, "job-updates")
        self.stats = StatsFeed(self, lambda: services.monitor)
        """The one monitor sampler; screens subscribe to `stats.updates`."""
        self.downloads = DownloadsFeed(self, lambda: services.downloads)
        """The download queue, started after the first frame; screens subscribe to
        `downloads.updates`."""
        self.state = StateFeed(self, services.paths, poll=services.settings.poll_interval)
        """Another shell's changes to instances, versions, queue, library, nodes."""
        self._sampling = sampling
        self._notifier_task: asyncio.Task[None] | None = None
        if services.settings.keymap:
            self.set_keymap(dict(services.settings.keymap))

    @property
    def summary_text(self) -> str:
        """The header strip's summary of the latest sample."""
        return self.stats.summary

    # --- monitoring ----------------------------------------------------------------------
    def on_mount(self) -> None:
        """Everything below waits for the first frame: building those services imports
        aiohttp, SQLite, psutil and NVML, which the first screen does not need."""
        if not self.is_headless:  # a terminal left alone is drawn less often
            self.stats.untouched_after = UNTOUCHED_AFTER_S
        self.call_after_refresh(self.start_background)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.InputEvent):
            self.stats.touch()
        await super().on_event(event)

    def start_background(self) -> None:
        """Start sampling and the download queue, reattach to instances that outlived an
        earlier run (dead ones are marked exited), clear what crashed installs left behind,
        and import the other screens in a thread so the first switch to one is quick. The
        garbage collector, off while the app started (`cli.main`), is on again from here."""
        gc.enable()
        self._preload()
        if self._sampling:
            self.stats.start()
        self.downloads.start()
        self.state.start()
        self._reattach()
        self._clean_stale()
        self._start_notifier()

    @work(thread=True, group="preload", exit_on_error=False)
    def _preload(self) -> None:
        _preload_screens()

    @work(group="instances:reattach", exit_on_error=False)
    async def _reattach(self) -> None:
        await self.services.instances.refresh()

    @work(group="versions:clean", exit_on_error=False)
    async def _clean_stale(self) -> None:
        await self.services.versions.clean_stale()

    # --- notifications -------------------------------------------------------------------
    def _start_notifier(self) -> None:
        """Watch jobs, instances, downloads and installs while the app runs; each notice is a
        toast, a line of the notifications list (`N`) and, in a real terminal, a bell and a
        desktop notification."""
        notifier = self.services.notifier
        notifier.terminal = self._terminal_write
        notifier.subscribe(self._on_notice)
        # A task, not a worker: it runs as long as the app, and helpers that wait for the
        # workers to finish must not wait for it.
        self._notifier_task = asyncio.get_running_loop().create_task(notifier.run())

    def _on_notice(self, notice: Notice) -> None:
        if notice.failure:
            self.notify(notice.body, title=notice.title, severity="error", timeout=8)
        else:
            self.notify(notice.body, title=notice.title, timeout=8)

    def _terminal_write(self, text: str) -> None:
        driver = self._driver
        if driver is not None and not self.is_headless:
            driver.write(text)
            driver.flush()

    def action_notifications(self) -> None:
        from comfy_tui.ui.dialogs.notifications import NotificationsScreen

        self.push_screen(NotificationsScreen(list(self.services.notifier.recent)))

    def on_stats_sampled(self, message: StatsSampled) -> None:
        self.stats.receive(message.sample)

    def on_downloads_changed(self, message: DownloadsChanged) -> None:
        self.downloads.receive(message.items)

    async def on_unmount(self) -> None:
        """Stop the downloads (they resume on the next start), stop watching the shared state,
        stop sampling and release NVML (never let that block quitting)."""
        await self.state.stop()
        if self._notifier_task is not None:
            self._notifier_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._notifier_task
        await self.downloads.stop()
        if "fleet" in self.services.built():  # the SSH connections of the Fleet screen
            await self.services.fleet.aclose()
        try:
            await self.stats.stop()
            if self.stats.monitor_built:
                await self.stats.monitor.aclose()
        except Exception:
            log.exception("closing the monitor failed")

    # --- jobs --------------------------------------------------------------------------
    def start_job(
        self, key: JobKey, description: str, events: Callable[[], AsyncIterator[Event]]
    ) -> Worker[None]:
        """Run a service job on the App (it survives screen switches); a second start of the
        same key cancels the first. Its updates reach screens through `job_updates`."""
        return self.run_worker(
            pump(key, description, events, self.post_message),
            name=str(key),
            group=job_group(key),
            description=description,
            exclusive=True,
            exit_on_error=False,
        )

    def cancel_job(self, key: JobKey) -> None:
        self.workers.cancel_group(self, job_group(key))

    def job_running(self, key: JobKey) -> bool:
        return any(w.group == job_group(key) for w in self.running_jobs())

    def running_jobs(self) -> list[Worker[object]]:
        """User jobs still pending or running."""
        return [
            w
            for w in self.workers
            if is_job(w) and w.state in (WorkerState.PENDING, WorkerState.RUNNING)
        ]

    def on_job_update_posted(self, message: JobUpdatePosted) -> None:
        """The one place where job updates reach screens, and a failure an error dialog (a
        failed download shows on its row instead)."""
        update = message.update
        self.job_updates.publish(update)
        if update.state == "failed" and update.error is not None:
            log.error("job %s failed", update.key, exc_info=update.error)
            if update.key.kind is not JobKind.DOWNLOAD:
                self.push_screen(self.error_screen(f"{update.description} failed", update.error))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == FEED_GROUP and event.state == WorkerState.ERROR:
            self.stats.failed(worker)
            self.notify(f"Monitoring stopped: {self.stats.error}", severity="error", timeout=8)

    def error_screen(self, title: str, exc: BaseException) -> ErrorScreen:
        """The error dialog for `exc`: its causes, a fix, the app log; `c` saves it to logs/."""
        from comfy_tui.core.error_report import ErrorReport
        from comfy_tui.ui.dialogs.error import ErrorScreen

        paths = self.services.paths
        report = ErrorReport.from_exception(title, exc, log_path=str(paths.app_log()))
        return ErrorScreen(title, report=report, save_dir=paths.logs_dir())

    # --- actions -----------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """While a dialog is open only its keys act: the global screen and quit keys wait
        (ctrl+c still asks to quit, `?` lists the dialog's keys). `?` in a text field is
        typed, not help."""
        if action == "help":
            # a TextArea can only have the focus once its module is loaded (not at start)
            text_area = sys.modules.get("textual.widgets._text_area")
            fields = (Input,) if text_area is None else (Input, text_area.TextArea)
            return not isinstance(self.focused, fields)
        return not (action in MODAL_BLOCKED and isinstance(self.screen, ModalScreen))

    async def action_request_quit(self) -> None:
        """Quit at once, unless jobs are running: then ask. Instances keep running (said)."""
        await self._quit(always_ask=False)

    async def action_interrupt(self) -> None:
        """ctrl+c: ask "quit? (instances keep running)"; a second ctrl+c quits."""
        await self._quit(always_ask=True)

    async def _quit(self, *, always_ask: bool) -> None:
        from comfy_tui.ui.dialogs.confirm import ConfirmScreen

        if isinstance(self.screen, ConfirmScreen) and self.screen.id == QUIT_DIALOG_ID:
            self.screen.dismiss(True)  # ctrl+c twice, or q on the quit question
            return
        jobs = [w.description or w.name for w in self.running_jobs()]
        downloads = [f"download {d.label}" for d in self.downloads.running()]
        message = await self.instances_left_message()
        if not jobs and not downloads and not always_ask:
            self.exit(0, message=message)
            return
        busy = jobs + downloads
        if busy:
            names = ", ".join(busy[:3])
            more = f" and {len(busy) - 3} more" if len(busy) > 3 else ""
            question = f"{len(busy)} job(s) still running ({names}{more}). Quit and cancel them?"
        else:
            question = "Quit comfy-tui?"
        if downloads:
            question += " Downloads resume on the next start."
        question += " Instances keep running. (ctrl+c again quits)"

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit(0, message=message)

        dialog = ConfirmScreen(question, yes="Quit", no="Stay")
        dialog.id = QUIT_DIALOG_ID
        await self.push_screen(dialog, answered)

    async def instances_left_message(self) -> str | None:
        """The line printed after quitting when instances keep running, or None."""
        try:
            count = sum((await self.services.instances.running_versions()).values())
        except ComfyTuiError:
            return None
        if not count:
            return None
        what = "instance keeps" if count == 1 else "instances keep"
        return f"{count} ComfyUI {what} running (see: comfy-tui ps; stop: comfy-tui stop --all)"

    def action_help(self) -> None:
        """Open the help screen for the screen that is showing."""
        from comfy_tui.ui.dialogs.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)  # `?` again closes it
            return
        title = getattr(self.screen, "MODE_TITLE", "") or _dialog_title(self.screen)
        self.push_screen(HelpScreen(title, self.help_rows()))

    def action_help_anywhere(self) -> None:
        """F1: help, also from a text field (where `?` is typed)."""
        self.action_help()

    def help_rows(self) -> list[HelpRow]:
        """Every key with a help line: the screen's own, then global, then Textual's.
        Over a dialog: the dialog's keys (and its fields'), and the global keys that still act
        there.

        Built from the binding chain itself, not `active_bindings` (one binding per key, and
        none that `check_action` turns off right now): a screen's own keys are all listed,
        also two on one key (escape: cancel an install, clear the filter) and one shadowing a
        widget's key (enter: details, not the table's "select")."""
        from comfy_tui.ui.dialogs.help import HelpRow

        modal = isinstance(self.screen, ModalScreen)
        own = [b.id for bs in self.screen._bindings.key_to_bindings.values() for b in bs]
        order = [
            *(k.id for k in getattr(self.screen, "KEYS", ())),
            *(i for i in own if i),  # a dialog's keys (they have ids, not a KEYS table)
            *(k.id for k in GLOBAL_KEYS),
        ]
        ours = set(order)
        # a dialog's chain stops at the dialog; the App's priority keys still act over it
        pairs: list[tuple[DOMNode, str, Binding]] = [
            (namespace, key, binding)
            for namespace, bindings in self.screen._modal_binding_chain
            for key, binding in bindings
        ]
        if modal:
            pairs += [(self, key, b) for key, b in self._bindings if b.priority]
        chain = [
            (key, binding, namespace)
            for namespace, key, binding in pairs
            if not key.startswith("super+")
            and not (modal and binding.action.split("(")[0].split(".")[-1] in MODAL_BLOCKED)
        ]
        claimed = {key for key, binding, _ in chain if binding.id in ours}
        ranked: list[tuple[int, HelpRow]] = []
        seen: set[tuple[str, str]] = set()
        for key, binding, namespace in chain:
            if (key, binding.action) in seen:
                continue
            if binding.id not in ours and (
                key in claimed or self._check_action_state(binding.action, namespace) is False
            ):
                continue  # a widget's key that one of ours shadows, or that is off here
            description, help_line = _BUILTIN_HELP.get(
                binding.action, (binding.description, binding.tooltip)
            )
            if not description:
                continue
            help_line = help_line or _MOVE_HELP.get(binding.action.split(".")[-1], description)
            seen.add((key, binding.action))
            rank = order.index(binding.id) if binding.id in ours else len(order)
            ranked.append((rank, HelpRow(self.get_key_display(binding), description, help_line)))
        return [row for _, row in sorted(ranked, key=lambda pair: pair[0])]


def _dialog_title(screen: Screen[Any]) -> str:
    """ "Error dialog" for ErrorScreen: the help title of a dialog without a MODE_TITLE."""
    name = type(screen).__name__.removesuffix("Screen")
    words = "".join(f" {c}" if c.isupper() else c for c in name).strip()
    return f"{words} dialog"


_MOVE_HELP: dict[str, str] = {
    "cursor_up": "Move the selection up",
    "cursor_down": "Move the selection down",
    "cursor_left": "Move the selection left",
    "cursor_right": "Move the selection right",
    "page_up": "Up one page",
    "page_down": "Down one page",
    "scroll_home": "To the first line",
    "scroll_end": "To the last line",
    "scroll_top": "To the first line",
    "scroll_bottom": "To the last line",
    "select_cursor": "Choose the selected line",
    "select": "Choose the selected line",
    "scroll_up": "Scroll up one line",
    "scroll_down": "Scroll down one line",
    "scroll_left": "Scroll left",
    "scroll_right": "Scroll right",
    "page_left": "Left one page",
    "page_right": "Right one page",
    "close": "Close this dialog",
    "cancel": "Close this dialog; nothing changes",
    "dismiss_help": "Close this list",
}
"""Help lines for the keys Textual's widgets (and dialogs) bring without one."""

_BUILTIN_HELP: dict[str, tuple[str, str]] = {
    "command_palette": ("Commands", "Open the command palette: every action by name"),
    "app.focus_next": ("Next", "Move the focus to the next widget"),
    "app.focus_previous": ("Previous", "Move the focus to the previous widget"),
    "focus_next": ("Next", "Move the focus to the next widget"),
    "focus_previous": ("Previous", "Move the focus to the previous widget"),
    "screen.copy_text": ("Copy", "Copy the selected text"),
    "copy_text": ("Copy", "Copy the selected text"),
}

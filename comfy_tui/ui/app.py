"""ComfyTuiApp: the global keys, quitting, the background feeds, notifications, and the jobs
that outlive screens (`start_job`). Its modes' screens are in `modes.py`, the help list's rows
in `help_rows.py`."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, work
from textual.app import App
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
from comfy_tui.ui.keys import GLOBAL_KEYS, MODAL_BLOCKED, bindings
from comfy_tui.ui.modes import MODE_SCREENS, STYLESHEETS, preload_screens
from comfy_tui.ui.state_feed import StateFeed
from comfy_tui.ui.stats_feed import FEED_GROUP, UNTOUCHED_AFTER_S, StatsFeed, StatsSampled

if TYPE_CHECKING:  # the dialogs below are imported when first opened, not before the first frame
    from textual.command import Provider

    from comfy_tui.services.notify.notice import Notice
    from comfy_tui.ui.dialogs.error import ErrorScreen
    from comfy_tui.ui.dialogs.help import HelpRow

log = logging.getLogger(__name__)

QUIT_DIALOG_ID = "quit-question"


def _palette_commands() -> type[Provider]:
    """The palette's own commands, imported when the palette first opens."""
    from comfy_tui.ui.commands import ComfyCommands

    return ComfyCommands


class ComfyTuiApp(App[int]):
    """The full-screen app. Build it with `comfy_tui.ui.factory.make_app`."""

    TITLE = "comfy-tui"
    SUB_TITLE = __version__
    CSS_PATH = [styles_dir() / name for name in STYLESHEETS]
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = MODE_SCREENS
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
        preload_screens()

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
        from comfy_tui.ui.help_rows import dialog_title

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss(None)  # `?` again closes it
            return
        title = getattr(self.screen, "MODE_TITLE", "") or dialog_title(self.screen)
        self.push_screen(HelpScreen(title, self.help_rows()))

    def action_help_anywhere(self) -> None:
        """F1: help, also from a text field (where `?` is typed)."""
        self.action_help()

    def help_rows(self) -> list[HelpRow]:
        """Every key with a help line for the screen or dialog showing (`ui/help_rows.py`)."""
        from comfy_tui.ui.help_rows import help_rows

        return help_rows(self)

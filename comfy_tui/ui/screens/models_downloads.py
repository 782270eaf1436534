"""The Downloads panel of the Models screen: the queue with progress, and its keys.

`DownloadsPanel` shows the App's download feed (`app.downloads`); `DownloadsMixin` holds the
actions the Models screen binds: add (a dialog), pause/resume, cancel (asks), clear finished.
A download that finishes makes the screen reload the library table: the file is indexed by
then (the queue's `on_complete` is the library's indexer).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList

from comfy_tui.errors import ComfyTuiError
from comfy_tui.services.downloads import DownloadItem, DownloadQueue, RepoEntry, State
from comfy_tui.services.downloads.hf import list_repo_files
from comfy_tui.ui.dialogs.add_download import AddDownloadScreen
from comfy_tui.ui.dialogs.confirm import ConfirmScreen
from comfy_tui.ui.keys import Key
from comfy_tui.ui.screens.base import ModeScreen
from comfy_tui.ui.widgets.download_list import DownloadList, detail_line

__all__ = ["DOWNLOAD_KEYS", "DownloadsMixin", "DownloadsPanel"]

DOWNLOAD_KEYS = (
    Key("models-download", "a", "add_download", "Download",
        "Download a model from a URL or a Hugging Face repo into the library"),
    Key("models-download-pause", "p", "pause_download", "Pause/resume",
        "Pause or resume the selected download (a paused one keeps its bytes)", show=False),
    Key("models-download-cancel", "c", "cancel_download", "Cancel download",
        "Cancel the selected download and delete its partial file (asks first)", show=False),
    Key("models-download-clear", "x", "clear_downloads", "Clear ended",
        "Clear finished, cancelled and failed downloads from the list", show=False),
)  # fmt: skip

TITLE = "Downloads · p pause · c cancel · x clear"
OPEN = frozenset({State.ACTIVE, State.QUEUED, State.PAUSED, State.FAILED})
CLEARED = frozenset({State.DONE, State.CANCELLED, State.FAILED})
"""What `x` clears from the list: finished, cancelled and failed downloads."""


class DownloadsPanel(Vertical):
    """The queue under the model details; hidden while the queue is empty."""

    def compose(self) -> ComposeResult:
        yield DownloadList(id="downloads-list")

    def on_mount(self) -> None:
        self.border_title = TITLE

    @property
    def list(self) -> DownloadList:
        return self.query_one(DownloadList)

    def show(self, items: Sequence[DownloadItem]) -> None:
        self.display = bool(items)
        self.list.show(items)
        self.describe()

    def describe(self) -> None:
        item = self.list.selected
        self.border_subtitle = detail_line(item) if item is not None else ""

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self.describe()


class DownloadsMixin(ModeScreen):
    """The download keys' actions; the screen composes a `DownloadsPanel#models-downloads`."""

    _finished: frozenset[str] = frozenset()

    @property
    def queue(self) -> DownloadQueue:
        return self.comfy_app.downloads.queue

    @property
    def downloads_panel(self) -> DownloadsPanel:
        return self.query_one("#models-downloads", DownloadsPanel)

    def watch_downloads(self) -> None:
        """Follow the App's download feed (call from on_mount)."""
        feed = self.comfy_app.downloads
        self._finished = frozenset(i.id for i in feed.items if i.state is State.DONE)
        feed.updates.subscribe(self, self.on_downloads)
        self.downloads_panel.show(feed.items)

    def on_downloads(self, items: tuple[DownloadItem, ...]) -> None:
        self.downloads_panel.show(items)
        done = frozenset(i.id for i in items if i.state is State.DONE)
        if done - self._finished:
            self.downloads_finished()
        self._finished = done

    def downloads_finished(self) -> None:
        """A download landed in the library (the screen reloads its table)."""

    def selected_download(self) -> DownloadItem | None:
        return self.downloads_panel.list.selected

    # --- actions -----------------------------------------------------------------------
    def action_add_download(self) -> None:
        settings = self.comfy_app.services.settings

        async def files(repo: str, revision: str) -> list[RepoEntry]:
            return await list_repo_files(settings, repo, revision)

        def answered(request: object) -> None:
            if request is not None:
                self.notify("Download queued.")

        self.app.push_screen(AddDownloadScreen(self.queue.add, files), answered)

    def action_pause_download(self) -> None:
        item = self.selected_download()
        if item is None or item.state not in OPEN:
            self.notify("No download to pause or resume.", severity="warning")
            return
        paused = item.state in (State.PAUSED, State.FAILED)
        change = self.queue.resume if paused else self.queue.pause
        self._change(change, item.id)

    def action_cancel_download(self) -> None:
        item = self.selected_download()
        if item is None or item.state not in OPEN:
            self.notify("No download to cancel.", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._change(self.queue.cancel, item.id)

        question = f"Cancel the download of {item.label}? Its partial file is deleted."
        self.app.push_screen(ConfirmScreen(question, yes="Cancel download", no="Keep"), answered)

    def action_clear_downloads(self) -> None:
        ended = [i.id for i in self.queue.items() if i.state in CLEARED]
        for item_id in ended:
            self._change(self.queue.remove, item_id)

    @work(group="downloads:change")
    async def _change(self, change: Callable[[str], Awaitable[object]], item_id: str) -> None:
        try:
            await change(item_id)
        except ComfyTuiError as exc:
            self.show_error("Changing the download failed", exc)

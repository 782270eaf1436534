"""Ask what to download: a URL, or a Hugging Face repo, its revision (`models download
--revision`; empty: main) and a file of it (picked from the repo's list at that revision), the
library folder, and the expected sha256.

The request is checked by the queue before the dialog closes: bad input shows its one-line
reason in the dialog and nothing is queued.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from comfy_tui.core.units import format_bytes
from comfy_tui.errors import ComfyTuiError
from comfy_tui.services.downloads import DownloadRequest, RepoEntry
from comfy_tui.services.downloads.resolve import looks_like_url
from comfy_tui.ui.dialogs.pick import PickScreen

ListFiles = Callable[[str, str], Awaitable[list[RepoEntry]]]
"""Every file of a repo at a revision (`main` when none is typed), for the picker."""
Submit = Callable[[DownloadRequest], Awaitable[object]]
"""Checks and queues the request; raises a ComfyTuiError for bad input."""

FIELDS = (
    "download-source",
    "download-revision",
    "download-file",
    "download-folder",
    "download-sha256",
)
HINT = "enter: next field, then download · empty File: pick · esc: cancel"


class AddDownloadScreen(ModalScreen[DownloadRequest | None]):
    """Dismisses with the queued request, or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="add-download-cancel")]

    def __init__(self, submit: Submit, list_files: ListFiles) -> None:
        super().__init__()
        self._submit = submit
        self._list_files = list_files

    def compose(self) -> ComposeResult:
        with Vertical(id="add-download-box"):
            yield Label("Download a model into the library", id="add-download-title")
            yield Label("URL (https, Hugging Face, CivitAI) or a Hugging Face repo (org/name):")
            yield Input(placeholder="https://…  or  org/repo", id="download-source")
            yield Label("Revision (Hugging Face; empty: main):")
            yield Input(placeholder="branch, tag or commit", id="download-revision")
            yield Label("File in the repo (repos only):")
            yield Input(placeholder="split_files/vae/ae.safetensors", id="download-file")
            yield Label("Folder (empty: guessed from the path):")
            yield Input(placeholder="loras, checkpoints, vae, ...", id="download-folder")
            yield Label("Expected sha256 (optional; a mismatch deletes the file):")
            yield Input(placeholder="64 hex digits", id="download-sha256")
            yield Label("", id="add-download-message", markup=False)
            yield Label(HINT, id="add-download-hint")

    def on_mount(self) -> None:
        self.query_one("#download-source", Input).focus()

    def _value(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value.strip()

    def say(self, text: str, *, error: bool = False) -> None:
        message = self.query_one("#add-download-message", Label)
        message.update(text)
        message.set_class(error, "-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        field = event.input.id or ""
        source = self._value("download-source")
        if field == "download-source" and not source:
            self.say("Type a URL or a Hugging Face repo id.", error=True)
            return
        if field == "download-file" and not self._value("download-file"):
            self._pick(source, self._value("download-revision") or "main")
            return
        if field == "download-source" and looks_like_url(source):
            self.query_one("#download-folder", Input).focus()
            return
        if field in FIELDS[:-1]:
            self.query_one(f"#{FIELDS[FIELDS.index(field) + 1]}", Input).focus()
            return
        self._send(self.request())

    def request(self) -> DownloadRequest:
        return DownloadRequest(
            source=self._value("download-source"),
            file=self._value("download-file") or None,
            revision=self._value("download-revision") or None,
            folder=self._value("download-folder") or None,
            sha256=self._value("download-sha256") or None,
        )

    @work(group="add-download:list", exclusive=True)
    async def _pick(self, repo: str, revision: str) -> None:
        if not repo or looks_like_url(repo):
            self.say("Files are listed for a Hugging Face repo id (org/name).", error=True)
            return
        self.say(f"Listing the files of {repo}…")
        try:
            files = await self._list_files(repo, revision)
        except ComfyTuiError as exc:
            self.say(str(exc), error=True)
            return
        if not files:
            self.say(f"{repo} has no files.", error=True)
            return
        self.say("")
        choices = [(f.path, f"{f.path}  {format_bytes(f.size, unknown='?')}") for f in files]
        at = "" if revision == "main" else f" @ {revision}"
        self.app.push_screen(PickScreen(f"Files of {repo}{at}", choices), self._picked)

    def _picked(self, path: str | None) -> None:
        if path:
            self.query_one("#download-file", Input).value = path
            self.query_one("#download-folder", Input).focus()

    @work(group="add-download:send", exclusive=True)
    async def _send(self, request: DownloadRequest) -> None:
        self.say("Checking…")
        try:
            await self._submit(request)
        except ComfyTuiError as exc:
            self.say(str(exc), error=True)
            return
        self.dismiss(request)

    def action_cancel(self) -> None:
        self.dismiss(None)

"""Ask for what to import: a file or folder path (or a pattern such as `~/dl/*.safetensors` for
several, `services/library/sources.py`), optionally the folder type and how (`auto`:
a hardlink when possible, else a verified copy; `copy`, `move` or `link`, as `models import
--copy/--move/--link`)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from comfy_tui.services.library.importer import ImportMode

MODES: tuple[ImportMode, ...] = ("auto", "copy", "move", "link")


@dataclass(frozen=True)
class ImportRequest:
    path: str
    folder: str | None
    mode: ImportMode = "auto"


class ImportScreen(ModalScreen[ImportRequest | None]):
    """Enter imports (hardlink when possible, else a verified copy); escape cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="import-cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="import-box"):
            yield Label("Import models into the library", id="import-title")
            yield Label("File or folder (recursive), or a pattern: ~/dl/*.safetensors")
            yield Input(placeholder="~/Downloads/model.safetensors", id="import-path")
            yield Label("Folder type (empty: guessed from the header):")
            yield Input(placeholder="loras, checkpoints, vae, ...", id="import-folder")
            yield Label("How (auto: hardlink, else copy; or copy, move, link):")
            yield Input(placeholder="auto", id="import-mode")
            yield Label("enter imports · tab: next field · escape cancels", id="import-hint")

    def on_mount(self) -> None:
        self.query_one("#import-path", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        path = self.query_one("#import-path", Input).value.strip()
        if event.input.id == "import-path" and path:
            self.query_one("#import-folder", Input).focus()
            return
        if not path:
            self.notify("Type the path of a file or folder to import.", severity="warning")
            return
        folder = self.query_one("#import-folder", Input).value.strip() or None
        mode = self.query_one("#import-mode", Input).value.strip().lower() or "auto"
        if mode not in MODES:
            self.notify(f"How: one of {', '.join(MODES)} (not {mode!r})", severity="warning")
            self.query_one("#import-mode", Input).focus()
            return
        self.dismiss(ImportRequest(path, folder, mode))

    def action_cancel(self) -> None:
        self.dismiss(None)

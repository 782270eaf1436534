"""Models screen (mode 2): the shared model library — folders, a searchable table, details and
the library's jobs (scan, import, hash, remove, CivitAI, duplicates, trash).

Built in layers, one job each: `models_downloads.py` (`DownloadsMixin`: the Downloads panel and
its keys), `models_workflow.py` (`WorkflowNeedsMixin`: `w`, what a workflow needs), and here the
library; the table's columns and cells are in `models_rows.py`, the key table in
`models_keys.py`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Input, OptionList

from comfy_tui.aio import to_thread
from comfy_tui.core.units import format_bytes
from comfy_tui.errors import ComfyTuiError
from comfy_tui.events import Event, Finished, LogLine, Progress
from comfy_tui.runner import LIBRARY_JOBS, JobKey, JobKind, JobUpdate
from comfy_tui.services.library.dedupe import DuplicateReport
from comfy_tui.services.library.service import LibraryService
from comfy_tui.store.civitai_index import CivitaiInfo
from comfy_tui.store.models_index import ModelRecord
from comfy_tui.ui.dialogs.confirm import ConfirmScreen
from comfy_tui.ui.dialogs.duplicates import DuplicatesScreen
from comfy_tui.ui.dialogs.import_path import ImportRequest, ImportScreen
from comfy_tui.ui.dialogs.trash import TrashScreen
from comfy_tui.ui.screens.models_downloads import DownloadsPanel
from comfy_tui.ui.screens.models_keys import MODELS_KEYS
from comfy_tui.ui.screens.models_rows import FOLDER_PANE, cell, column_widths
from comfy_tui.ui.screens.models_workflow import WorkflowNeedsMixin
from comfy_tui.ui.widgets.card import Line
from comfy_tui.ui.widgets.empty_state import EmptyState
from comfy_tui.ui.widgets.folder_list import ALL, FolderList
from comfy_tui.ui.widgets.model_detail import ModelDetail
from comfy_tui.ui.widgets.model_table import ModelTable, TableHeader

EMPTY = (
    "The model library is empty — press s to scan it, i to import a file or folder,"
    " or a to download a model"
)


class ModelsScreen(WorkflowNeedsMixin):
    """Mode 2."""

    MODE_TITLE = "Models"
    KEYS = MODELS_KEYS

    folder: reactive[str] = reactive(ALL, init=False)
    """The folder picked on the left (ALL: every folder); a change reads the index again."""
    query_text: reactive[str] = reactive("", init=False)
    """The search typed above the table; a change reads the index again."""

    def __init__(self) -> None:
        super().__init__()
        self.models: dict[str, ModelRecord] = {}
        self.versions: list[str] = []
        self.civitai: dict[str, CivitaiInfo] = {}
        self._reports: list[DuplicateReport] = []
        self._focus_table = True  # on the first load that shows rows
        self._empty_library = True

    @property
    def library(self) -> LibraryService:
        return self.comfy_app.services.library

    def compose_body(self) -> ComposeResult:
        with Horizontal(id="models-body"):
            yield FolderList(id="models-folders")
            with Vertical(id="models-main"):
                yield Input(placeholder="/ search name, folder, architecture", id="models-search")
                yield EmptyState(EMPTY, id="models-empty")
                yield TableHeader(id="models-header")
                yield ModelTable(id="models-table")
                yield ModelDetail(id="models-detail")
                yield DownloadsPanel(id="models-downloads")
                yield Line("", id="models-job")

    def on_mount(self) -> None:
        self.query_one("#models-folders").border_title = "Folders"
        self.query_one("#models-detail").border_title = "Details"
        self.comfy_app.job_updates.subscribe(self, self.on_job_update)
        self.query_one("#models-table").display = False
        self.query_one("#models-header").display = False
        self.watch_downloads()
        self.reload()

    def downloads_finished(self) -> None:
        self.reload()

    # --- loading -----------------------------------------------------------------------
    @work(group="models:load", exclusive=True, exit_on_error=False)
    async def reload(self) -> None:
        """Read the index again (folders, rows, versions); the previous read is cancelled."""
        try:
            stats = await self.library.folders()
            folder = None if self.folder == ALL else self.folder
            models = await self.library.list_models(self.query_text, folder)
            self.civitai = await self.library.civitai_known()
        except ComfyTuiError as exc:  # a damaged index says so (and `s` rebuilds it)
            self.show_error("Reading the model library failed", exc)
            return
        self.versions = [tag for tag, _ in await self.library.installed_versions()]
        self.query_one(FolderList).show(stats, self.folder)
        self._fill(models, empty_library=not stats)

    def watch_folder(self) -> None:
        self.reload()

    def watch_query_text(self) -> None:
        self.reload()

    def on_state_changed(self, areas: frozenset[str]) -> None:
        if areas & {"library", "versions"}:
            self.reload()

    def _fill(self, models: list[ModelRecord], *, empty_library: bool) -> None:
        table = self.query_one("#models-table", ModelTable)
        selected = table.cursor_key
        self.models = {str(m.id): m for m in models}
        self._empty_library = empty_library
        widths = column_widths(self.size.width - FOLDER_PANE)
        rows = [tuple(cell(m)[key] for key in widths) for m in models]
        columns = list(widths.values())
        table.set_rows(columns, rows, list(self.models), keep=selected)
        self.query_one("#models-header", TableHeader).show(columns)
        for widget in (table, self.query_one("#models-header"), self.query_one(ModelDetail)):
            widget.display = not empty_library
        self.query_one("#models-empty").display = empty_library
        self._show_detail()
        if self._focus_table and not empty_library:
            self._focus_table = False
            table.focus()
        self._show_detail()

    def selected(self) -> ModelRecord | None:
        key = self.query_one("#models-table", ModelTable).cursor_key
        return self.models.get(key) if key else None

    def _show_detail(self) -> None:
        model = self.selected()
        root = "library"
        if model is not None and Path(model.root) != self.library.main_root():
            root = f"extra root {model.root}"
        known = self.civitai.get(model.sha256) if model and model.sha256 else None
        self.query_one(ModelDetail).show(model, root, self.versions, known)

    def on_resize(self) -> None:
        if self.models or not self._empty_library:
            self._fill(list(self.models.values()), empty_library=self._empty_library)

    # --- events ------------------------------------------------------------------------
    @on(ModelTable.Highlighted, "#models-table")
    def _row_highlighted(self) -> None:
        self._show_detail()

    @on(OptionList.OptionHighlighted, "#models-folders")
    def _folder_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.folder = event.option.id or ALL

    @on(Input.Changed, "#models-search")
    def _search_changed(self, event: Input.Changed) -> None:
        self.query_text = event.value

    @on(Input.Submitted, "#models-search")
    def _search_submitted(self) -> None:
        self.query_one("#models-table").focus()

    def key_escape(self) -> None:
        if self.focused is self.query_one("#models-search"):
            self.query_one("#models-table").focus()

    def on_job_update(self, update: JobUpdate) -> None:
        if update.key.kind not in LIBRARY_JOBS:
            return
        line = self.query_one("#models-job", Line)
        event = update.event
        if isinstance(event, Progress):
            line.show(f"{update.description}: {event.step} {event.fraction:.0%}")
        elif isinstance(event, LogLine):
            line.show(f"{update.description}: {event.text}")
        elif isinstance(event, Finished) or update.state != "running":
            detail = event.detail if isinstance(event, Finished) else ""
            line.show(f"{update.description}: {update.state}{f' — {detail}' if detail else ''}")
            self.reload()
            if update.key.kind is JobKind.LIBRARY_DUPLICATES and isinstance(event, Finished):
                self._open_duplicates()

    # --- actions -----------------------------------------------------------------------
    def action_scan(self) -> None:
        self.comfy_app.start_job(
            JobKey(JobKind.LIBRARY_SCAN), "scan the library", self.library.scan
        )

    def action_search(self) -> None:
        self.query_one("#models-search").focus()

    def action_import(self) -> None:
        def answered(request: ImportRequest | None) -> None:
            if request is None:
                return
            self.comfy_app.start_job(
                JobKey(JobKind.LIBRARY_IMPORT),
                "import models",
                lambda: self._import_events(request),
            )

        self.app.push_screen(ImportScreen(), answered)

    async def _import_events(self, request: ImportRequest) -> AsyncIterator[Event]:
        """`models import PATH…`: the field's path, or every path its pattern matches."""
        from comfy_tui.services.library.sources import import_sources

        sources = await to_thread(import_sources, request.path)
        events = self.library.import_paths(sources, folder=request.folder, mode=request.mode)
        async for event in events:
            yield event

    def action_hash(self) -> None:
        model = self.selected()
        if model is None or model.id is None:
            self.notify("Select a model first.", severity="warning")
            return
        ids = [model.id]
        self.comfy_app.start_job(
            JobKey(JobKind.LIBRARY_HASH),
            f"hash {model.name}",
            lambda: self.library.hash_models(ids),
        )

    def action_hash_all(self) -> None:
        self.comfy_app.start_job(
            JobKey(JobKind.LIBRARY_HASH), "hash all models", self.library.hash_models
        )

    def action_delete(self) -> None:
        model = self.selected()
        if model is None:
            self.notify("Select a model first.", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._remove(model)

        question = f"Move {model.relpath} to the library's trash? (It can be restored.)"
        self.app.push_screen(ConfirmScreen(question, yes="Move to trash"), answered)

    @work(group="models:remove", exit_on_error=False)
    async def _remove(self, model: ModelRecord) -> None:
        await self.library.remove(model)
        self.notify(f"Moved {model.relpath} to the trash.")
        self.reload()

    def action_civitai(self) -> None:
        """`models info MODEL --civitai`: hash when needed, ask CivitAI, keep and show it."""
        model = self.selected()
        if model is None:
            self.notify("Select a model first.", severity="warning")
            return
        self._ask_civitai(model)

    @work(group="models:civitai", exit_on_error=False)
    async def _ask_civitai(self, model: ModelRecord) -> None:
        from comfy_tui.events import each

        library = self.library
        try:
            if not model.sha256 and model.id is not None:
                self.notify(f"Hashing {model.name} first…", title="CivitAI")
                await each(library.hash_models([model.id]), lambda _event: None)
                model = await library.find(str(model.path))
            info = await library.lookup_civitai(model)
        except ComfyTuiError as exc:
            self.show_error(f"CivitAI lookup of {model.name} failed", exc)
            return
        if model.sha256:
            self.civitai[model.sha256] = info
        found = info.model_name if info.found else "not known to CivitAI"
        self.notify(f"{model.name}: {found}", title="CivitAI", markup=False)
        self.reload()

    def action_trash(self) -> None:
        def closed(restored: bool | None) -> None:
            if restored:
                self.reload()

        self.app.push_screen(TrashScreen(self.comfy_app.services.trash), closed)

    def action_duplicates(self) -> None:
        self._reports.clear()
        self.comfy_app.start_job(
            JobKey(JobKind.LIBRARY_DUPLICATES),
            "find duplicates",
            lambda: self.library.find_duplicates(self._reports),
        )

    def _open_duplicates(self) -> None:
        if not self._reports:
            return
        report = self._reports[-1]
        if not self.is_current:
            self.notify("Duplicates found — open the Models screen and press D to see them.")
            return

        def answered(apply: bool | None) -> None:
            if apply:
                question = (
                    f"Replace the copies by hard links and reclaim "
                    f"{format_bytes(report.reclaimable)}? Every name keeps working."
                )
                self.app.push_screen(ConfirmScreen(question, yes="Link"), confirmed)

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.comfy_app.start_job(
                    JobKey(JobKind.LIBRARY_DEDUPE),
                    "replace duplicates",
                    lambda: self.library.apply_dedupe(report),
                )

        self.app.push_screen(DuplicatesScreen(report), answered)

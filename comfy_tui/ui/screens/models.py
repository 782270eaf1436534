"""Models screen: the shared model library — folders, a searchable table, details, jobs, and
the Downloads panel (models_downloads.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Input, OptionList

from comfy_tui.aio import to_thread
from comfy_tui.core.units import format_bytes, plural
from comfy_tui.errors import ComfyTuiError
from comfy_tui.events import Event, Finished, LogLine, Progress
from comfy_tui.runner import LIBRARY_JOBS, JobKey, JobKind, JobUpdate
from comfy_tui.services.library.dedupe import DuplicateReport
from comfy_tui.services.library.needs import Need, download_request, workflow_needs
from comfy_tui.services.library.service import LibraryService
from comfy_tui.store.civitai_index import CivitaiInfo
from comfy_tui.store.models_index import ModelRecord
from comfy_tui.ui.dialogs.confirm import ConfirmScreen
from comfy_tui.ui.dialogs.duplicates import DuplicatesScreen
from comfy_tui.ui.dialogs.import_path import ImportRequest, ImportScreen
from comfy_tui.ui.dialogs.text_input import TextInputScreen
from comfy_tui.ui.dialogs.trash import TrashScreen
from comfy_tui.ui.dialogs.workflow_needs import WorkflowNeedsScreen
from comfy_tui.ui.keys import Key
from comfy_tui.ui.screens.models_downloads import DOWNLOAD_KEYS, DownloadsMixin, DownloadsPanel
from comfy_tui.ui.widgets.card import Line
from comfy_tui.ui.widgets.empty_state import EmptyState
from comfy_tui.ui.widgets.folder_list import ALL, FolderList
from comfy_tui.ui.widgets.model_detail import ModelDetail, what_label
from comfy_tui.ui.widgets.model_table import GAP, ModelTable, TableHeader

FOLDER_PANE = 22
"""Width of the folder column (styles/models.tcss says the same)."""


def column_widths(width: int) -> dict[str, tuple[str, int]]:
    """Table columns for `width` cells: the Folder column only where there is room."""
    arch = 20 if width >= 70 else 16
    fixed = 9 + arch + 3 + GAP * 3 + 2 + 2  # size, architecture, sha, gaps, padding, scrollbar
    columns = {"name": ("Name", 0), "folder": ("Folder", 16)}
    name = width - fixed - GAP
    if name - 16 - GAP >= 24:
        name -= 16 + GAP
    else:
        del columns["folder"]
    columns["name"] = ("Name", max(name, 12))
    columns |= {"size": ("Size", 9), "arch": ("Architecture", arch), "sha": ("sha", 3)}
    return columns


def display_name(m: ModelRecord) -> str:
    """The path inside its folder; `.safetensors`, the usual case, is left out (details say)."""
    name = m.relpath.split("/", 1)[1] if "/" in m.relpath else m.relpath
    return name.removesuffix(".safetensors")


def cell(m: ModelRecord) -> dict[str, str]:
    """The table cells of one model."""
    return {
        "name": display_name(m),
        "folder": m.folder,
        "size": format_bytes(m.size),
        "arch": what_label(m),
        "sha": "✓" if m.sha256 else "·",
    }


EMPTY = (
    "The model library is empty — press s to scan it, i to import a file or folder,"
    " or a to download a model"
)


class ModelsScreen(DownloadsMixin):
    """Mode 2."""

    MODE_TITLE = "Models"
    KEYS = (
        Key("models-scan", "s", "scan", "Scan", "Scan the library folders for models"),
        Key("models-search", "slash", "search", "Search", "Search as you type (escape: table)"),
        Key("models-import", "i", "import", "Import", "Import a file or folder into the library"),
        Key("models-hash", "h", "hash", "Hash", "Compute the sha256 of the selected model"),
        Key(
            "models-hash-all",
            "H",
            "hash_all",
            "Hash all",
            "Hash every model without a sha256",
            show=False,
        ),
        Key("models-delete", "d", "delete", "Delete", "Move the selected model to the trash"),
        Key("models-duplicates", "D", "duplicates", "Duplicates", "Find copies to reclaim"),
        Key(
            "models-workflow",
            "w",
            "workflow",
            "Workflow",
            "Which models a workflow (.json, .png, .webp) needs; d downloads the missing ones",
            show=False,
        ),
        Key(
            "models-civitai",
            "C",
            "civitai",
            "CivitAI",
            "Ask CivitAI what the selected model is, by its sha256 (hashed first if needed)",
            show=False,
        ),
        Key(
            "models-trash",
            "t",
            "trash",
            "Trash",
            "Show the trash: restore what was removed",
            show=False,
        ),
        *DOWNLOAD_KEYS,
    )

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

    def action_workflow(self) -> None:
        def answered(path: str | None) -> None:
            if path:
                self._workflow(Path(path).expanduser())

        prompt = "Path of a workflow file (API or UI JSON, or a PNG/WebP ComfyUI saved):"
        self.app.push_screen(TextInputScreen("Workflow needs", prompt), answered)

    @work(group="models:workflow")
    async def _workflow(self, path: Path, tag: str | None = None) -> None:
        """`models needs FILE [--version TAG]`: the models, and the nodes `tag` (else the
        default version) lacks; the dialog's `v` asks for another version and checks again."""
        from comfy_tui.services.workflow_nodes import nodes_needed

        services = self.comfy_app.services
        try:
            needs = await workflow_needs(self.library, path)
            nodes = await nodes_needed(services.settings, services.paths, path, tag)
        except ComfyTuiError as exc:
            self.notify(str(exc), severity="error")
            return

        def answered(choice: str | None) -> None:
            if choice == "download":
                self._fetch(needs)
            elif choice == "version":
                self._pick_version(path)

        self.app.push_screen(WorkflowNeedsScreen(path.name, needs, nodes), answered)

    @work(group="models:workflow")
    async def _pick_version(self, path: Path) -> None:
        from comfy_tui.store.version_records import list_records
        from comfy_tui.ui.dialogs.pick import PickScreen

        records = await to_thread(list_records, self.comfy_app.services.paths)
        if not records:
            self.notify("No version is installed to check the nodes against.")
            return

        def picked(tag: str | None) -> None:
            if tag:
                self._workflow(path, tag)

        choices = [(r.tag, r.tag) for r in records]
        self.app.push_screen(PickScreen(f"Check {path.name}'s nodes against", choices), picked)

    @work(group="models:workflow")
    async def _fetch(self, needs: list[Need]) -> None:
        queued = 0
        for need in needs:
            request = download_request(need)
            if request is None:
                continue
            try:
                await self.queue.add(request)
                queued += 1
            except ComfyTuiError as exc:
                self.notify(f"{need.shown}: {exc}", severity="error")
        if queued:
            self.notify(f"Queued {plural(queued, 'download')}.")

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

"""The Trash: what removing a model, a version or a node put aside; `r` puts one back.

Opened with `t` from the Models screen (or "Trash" in the command palette). It lists the same
entries as `comfy-tui trash list` (TrashService) and restores them the same way; each restore
says in a notification where the entry went. `E` empties it (`comfy-tui trash empty`), after
one question that says how much is deleted for good.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from comfy_tui.core.units import format_age, format_bytes, plural
from comfy_tui.errors import ComfyTuiError
from comfy_tui.services.trash_service import TrashItem, TrashService

__all__ = ["TrashScreen"]

EMPTY = "The trash is empty: what you remove waits here first."


class TrashScreen(ModalScreen[bool]):
    """Dismissed with True when something was restored (the caller reloads its list)."""

    BINDINGS = [
        Binding("r,enter", "restore", "Restore", id="trash-restore"),
        Binding("E", "empty", "Empty", id="trash-empty-all"),
        Binding("escape,q", "close", "Close", id="trash-close"),
    ]

    def __init__(self, trash: TrashService) -> None:
        super().__init__()
        self.trash = trash
        self.items: list[TrashItem] = []
        self.restored = False

    def compose(self) -> ComposeResult:
        with Vertical(id="trash-box"):
            yield Label("Trash", id="trash-title")
            table: DataTable[str] = DataTable(id="trash-table", cursor_type="row")
            table.add_column("Kind", key="kind")
            table.add_column("Name", key="name")
            table.add_column("Size", key="size")
            table.add_column("Removed", key="removed")
            yield table
            yield Label(EMPTY, id="trash-empty", markup=False)
            yield Label(
                "r restores the selected entry · E empties the trash · escape closes",
                id="trash-hint",
            )

    def on_mount(self) -> None:
        self.query_one("#trash-empty").display = False
        self.query_one(DataTable).focus()
        self.reload()

    @work(group="trash:load", exclusive=True, exit_on_error=False)
    async def reload(self) -> None:
        try:
            self.items = await self.trash.items()
        except ComfyTuiError as exc:
            self.notify(str(exc), severity="error", markup=False)
            return
        self._fill()

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        now = self.trash.clock()
        for item in self.items:
            name = item.name if item.kind == "model" else f"{item.name}: {item.detail}"
            table.add_row(
                item.kind,
                name,
                format_bytes(item.size),
                format_age(now - item.removed_at),
                key=item.id,
            )
        self.query_one("#trash-empty").display = not self.items
        table.display = bool(self.items)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_restore()

    def action_restore(self) -> None:
        table = self.query_one(DataTable)
        if not self.items or table.cursor_row < 0:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key:
            self._restore(key)

    @work(group="trash:restore", exclusive=True, exit_on_error=False)
    async def _restore(self, item_id: str) -> None:
        try:
            line = await self.trash.restore(item_id)
        except ComfyTuiError as exc:
            self.notify(str(exc), title="Not restored", severity="error", markup=False)
            return
        self.restored = True
        self.notify(line, title="Restored", markup=False)
        self.reload()

    def action_empty(self) -> None:
        from comfy_tui.ui.dialogs.confirm import ConfirmScreen

        if not self.items:
            self.notify("The trash is already empty.")
            return
        size = format_bytes(sum(i.size for i in self.items))
        count = plural(len(self.items), "entry", "entries")
        question = f"Delete {count} ({size}) for good? Nothing can be restored after this."

        def answered(yes: bool | None) -> None:
            if yes:
                self._empty()

        self.app.push_screen(ConfirmScreen(question, yes="Delete", no="Keep"), answered)

    @work(group="trash:empty", exclusive=True, exit_on_error=False)
    async def _empty(self) -> None:
        try:
            deleted = await self.trash.empty()
        except ComfyTuiError as exc:
            self.notify(str(exc), title="Not emptied", severity="error", markup=False)
            return
        self.notify(f"Deleted {plural(len(deleted), 'entry', 'entries')}", title="Trash")
        self.reload()

    def action_close(self) -> None:
        self.dismiss(self.restored)

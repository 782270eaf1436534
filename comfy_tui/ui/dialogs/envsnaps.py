"""The snapshots of one version: pick one to restore, or take a new one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from comfy_tui.store.envsnap_records import Snapshot
from comfy_tui.ui.dialogs import DIALOG_CSS


@dataclass(frozen=True)
class SnapshotChoice:
    """What the user asked for: "restore" a snapshot (its id) or "create" a new one."""

    action: str
    snapshot_id: str = ""


def taken(snapshot: Snapshot) -> str:
    return datetime.fromtimestamp(snapshot.created_at, tz=UTC).strftime("%Y-%m-%d %H:%M")


class SnapshotsScreen(ModalScreen[SnapshotChoice | None]):
    """enter (or r) restores the selected snapshot, c takes a new one, escape closes."""

    CSS_PATH = DIALOG_CSS

    BINDINGS = [
        Binding("enter,r", "restore", "Restore", id="snapshots-restore"),
        Binding("c", "create", "Snapshot now", id="snapshots-create"),
        Binding("escape,q", "close", "Close", id="snapshots-close"),
    ]

    def __init__(self, tag: str, snapshots: list[Snapshot]) -> None:
        super().__init__()
        self._tag = tag
        self._snapshots = snapshots

    def compose(self) -> ComposeResult:
        with Vertical(id="snapshots-box"):
            yield Label(f"Snapshots of ComfyUI {self._tag}", id="snapshots-title", markup=False)
            table: DataTable[str] = DataTable(id="snapshots-table", cursor_type="row")
            table.add_column("Taken (UTC)", key="taken")
            table.add_column("Packages", key="packages")
            table.add_column("Nodes", key="nodes")
            table.add_column("Why", key="reason")
            for s in self._snapshots:
                table.add_row(taken(s), str(len(s.packages)), str(len(s.nodes)), s.reason, key=s.id)
            yield table
            empty = "No snapshots yet — press c to take one" if not self._snapshots else ""
            yield Label(empty, id="snapshots-empty", markup=False)
            yield Label(
                "enter restores the selected one · c snapshots now · escape closes",
                id="snapshots-hint",
            )

    def on_mount(self) -> None:
        self.query_one("#snapshots-empty").display = not self._snapshots
        self.query_one(DataTable).focus()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_restore()

    def action_restore(self) -> None:
        table = self.query_one(DataTable)
        if not self._snapshots or table.cursor_row < 0:
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        if key:
            self.dismiss(SnapshotChoice("restore", key))

    def action_create(self) -> None:
        self.dismiss(SnapshotChoice("create"))

    def action_close(self) -> None:
        self.dismiss(None)

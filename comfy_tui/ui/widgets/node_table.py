"""The tables of the Nodes screen: shared nodes (one row per node) and the versions' own nodes."""

from __future__ import annotations

from rich.markup import escape
from textual.widgets import DataTable

from comfy_tui.services.nodes import NodeInfo, OwnNode

SHARED_COLUMNS = (
    ("name", "Node"),
    ("commit", "Commit"),
    ("on", "On"),
    ("enabled", "Enabled in"),
    ("deps", "Brings"),
)


def _deps(info: NodeInfo) -> str:
    parts = (["reqs"] if info.requirements else []) + (
        ["install.py"] if info.install_script else []
    )
    return " + ".join(parts) or "—"


class NodeTable(DataTable[object]):
    """One row per shared node (the row key is its name); keeps the cursor on the same node."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.by_name: dict[str, NodeInfo] = {}

    def on_mount(self) -> None:
        for key, label in SHARED_COLUMNS:
            self.add_column(label, key=key)

    @property
    def selected(self) -> NodeInfo | None:
        if not self.by_name or self.cursor_row < 0 or self.cursor_row >= self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return self.by_name.get(key) if isinstance(key, str) else None

    def show(self, nodes: tuple[NodeInfo, ...]) -> None:
        keep = self.selected.name if self.selected else None
        self.clear()
        self.by_name = {n.name: n for n in nodes}
        for n in nodes:
            on = escape(n.branch) if n.branch else "[yellow]pinned[/]"
            enabled = ", ".join(n.enabled_in) or "[dim]—[/]"
            name = escape(n.name)
            self.add_row(name, n.commit[:7] or "?", on, enabled, _deps(n), key=n.name)
        if keep in self.by_name:
            self.move_cursor(row=self.get_row_index(keep), animate=False)


class OwnNodeTable(DataTable[object]):
    """Nodes that versions have in their own custom_nodes/ (listed, never touched)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="none", zebra_stripes=False, show_cursor=False)

    def on_mount(self) -> None:
        self.add_columns("Version", "Own node", "Kind")

    def show(self, own: tuple[OwnNode, ...]) -> None:
        self.clear()
        for o in own:
            kind = o.kind if o.enabled else f"{o.kind}, disabled"
            shown = escape(kind) if o.enabled else f"[dim]{escape(kind)}[/]"
            self.add_row(o.tag, escape(o.name), shown)

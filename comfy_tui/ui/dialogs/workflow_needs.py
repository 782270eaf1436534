"""What a workflow needs: its models (present (where), missing with a URL, missing without a
source) and the node classes a version lacks, with the repository that provides each
(`models needs FILE [--version TAG]`); `d` downloads the models, `v` checks another version."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from comfy_tui.core.units import plural
from comfy_tui.core.url_secrets import redact_url
from comfy_tui.services.library.needs import Need
from comfy_tui.services.workflow_nodes import NodesCheck

STATUS = {"present": "present", "download": "missing · URL", "missing": "missing · no source"}


def summary_line(needs: list[Need]) -> str:
    if not needs:
        return "This workflow names no model files."
    count = {s: sum(1 for n in needs if n.status == s) for s in STATUS}
    return (
        f"{plural(len(needs), 'model')}: {count['present']} present,"
        f" {count['download']} to download, {count['missing']} without a source"
    )


def nodes_line(check: NodesCheck | None) -> str:
    if check is None:
        return "Nodes: not checked (no default version; v picks one)."
    how = f"instance {check.instance}" if check.instance else "its checkouts"
    if not check.missing:
        return f"Nodes: {check.tag} has every node class it uses (asked {how})."
    return (
        f"Nodes: {plural(len(check.missing), 'class', 'classes')} not in {check.tag} (asked {how})."
    )


class WorkflowNeedsScreen(ModalScreen[str | None]):
    """Dismisses with "download" (fetch the missing models with a URL), "version" (check the
    nodes against another version) or None."""

    BINDINGS = [
        Binding("d", "download", "Download", id="workflow-download"),
        Binding("v", "version", "Version", id="workflow-version"),
        Binding("escape,q", "close", "Close", id="workflow-close"),
    ]

    def __init__(self, title: str, needs: list[Need], nodes: NodesCheck | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.needs = needs
        self.nodes = nodes

    @property
    def downloadable(self) -> int:
        return sum(1 for n in self.needs if n.status == "download")

    def compose(self) -> ComposeResult:
        with Vertical(id="workflow-box"):
            yield Label(f"Workflow needs — {self.title_text}", id="workflow-title", markup=False)
            yield Label(summary_line(self.needs), id="workflow-summary", markup=False)
            yield Label(nodes_line(self.nodes), id="workflow-nodes", markup=False)
            table: DataTable[str] = DataTable(id="workflow-table", cursor_type="row")
            table.add_columns("Status", "Model", "Where / source")
            for need in self.needs:
                if need.status == "present":
                    where = need.where or ""
                elif need.status == "download":
                    where = redact_url(need.ref.url or "")
                else:
                    where = f"node {need.ref.node}"
                table.add_row(STATUS[need.status], need.shown, where)
            for node in self.nodes.missing if self.nodes else ():
                source = f"comfy-tui nodes add {node.repo}" if node.repo else "no repository known"
                table.add_row("node missing", node.class_type, source)
            yield table
            n = self.downloadable
            hint = f"d downloads {plural(n, 'missing model')} · " if n else ""
            hint += "v checks another version · esc closes"
            yield Label(hint, id="workflow-hint", markup=False)

    def action_download(self) -> None:
        if self.downloadable:
            self.dismiss("download")

    def action_version(self) -> None:
        self.dismiss("version")

    def action_close(self) -> None:
        self.dismiss(None)

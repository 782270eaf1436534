"""The models a workflow needs: present (where), missing with a URL, missing without a source."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from comfy_tui.core.units import plural
from comfy_tui.core.url_secrets import redact_url
from comfy_tui.services.library.needs import Need

STATUS = {"present": "present", "download": "missing · URL", "missing": "missing · no source"}


def summary_line(needs: list[Need]) -> str:
    if not needs:
        return "This workflow names no model files."
    count = {s: sum(1 for n in needs if n.status == s) for s in STATUS}
    return (
        f"{plural(len(needs), 'model')}: {count['present']} present,"
        f" {count['download']} to download, {count['missing']} without a source"
    )


class WorkflowNeedsScreen(ModalScreen[bool]):
    """Dismisses with True when the user asks to download the missing models with a URL."""

    BINDINGS = [
        Binding("d", "download", "Download", id="workflow-download"),
        Binding("escape,q", "close", "Close", id="workflow-close"),
    ]

    def __init__(self, title: str, needs: list[Need]) -> None:
        super().__init__()
        self.title_text = title
        self.needs = needs

    @property
    def downloadable(self) -> int:
        return sum(1 for n in self.needs if n.status == "download")

    def compose(self) -> ComposeResult:
        with Vertical(id="workflow-box"):
            yield Label(f"Workflow needs — {self.title_text}", id="workflow-title", markup=False)
            yield Label(summary_line(self.needs), id="workflow-summary", markup=False)
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
            yield table
            n = self.downloadable
            hint = f"d downloads the {plural(n, 'missing model')} · escape closes"
            yield Label(hint if n else "escape closes", id="workflow-hint", markup=False)

    def action_download(self) -> None:
        if self.downloadable:
            self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(False)

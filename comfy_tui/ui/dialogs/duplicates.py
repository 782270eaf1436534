"""The duplicates view: groups of identical files, the bytes a dedupe would reclaim."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DataTable, Label

from comfy_tui.core.units import format_bytes, plural
from comfy_tui.services.library.dedupe import DuplicateReport


def summary_line(report: DuplicateReport) -> str:
    if not report.groups:
        return "No duplicates: every file in the library and the versions is unique."
    line = (
        f"{plural(len(report.groups), 'group')} of identical files · "
        f"{format_bytes(report.reclaimable)} reclaimable by hard links"
    )
    if report.stranded:
        line += f" · {format_bytes(report.stranded)} on other filesystems (cannot link)"
    return line


class DuplicatesScreen(ModalScreen[bool]):
    """Dismisses with True when the user asks to apply (the caller confirms and runs it)."""

    BINDINGS = [
        Binding("a", "apply", "Apply", id="duplicates-apply"),
        Binding("escape,q", "close", "Close", id="duplicates-close"),
    ]

    def __init__(self, report: DuplicateReport) -> None:
        super().__init__()
        self.report = report

    def compose(self) -> ComposeResult:
        with Vertical(id="duplicates-box"):
            yield Label("Duplicates", id="duplicates-title")
            yield Label(summary_line(self.report), id="duplicates-summary", markup=False)
            table: DataTable[str] = DataTable(id="duplicates-table", cursor_type="row")
            table.add_columns("sha256", "Size", "Copies", "Reclaim", "Files")
            for group in self.report.groups:
                files = group.files
                table.add_row(
                    group.sha256[:12],
                    format_bytes(group.size),
                    str(len(files)),
                    format_bytes(group.reclaimable),
                    files[0].label,
                )
                for f in files[1:]:
                    table.add_row("", "", "", "", f.label)
            yield table
            hint = "a replaces the copies by hard links · escape closes"
            yield Label(hint if self.report.reclaimable else "escape closes", id="duplicates-hint")

    def action_apply(self) -> None:
        if self.report.reclaimable:
            self.dismiss(True)

    def action_close(self) -> None:
        self.dismiss(False)

"""The table of releases and installed versions; it keeps the selected tag across updates."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import RowDoesNotExist

from comfy_tui.ui.version_rows import VersionRow

_MARKER_STYLE = {"▶": "bold green", "★": "bold yellow", "●": "cyan", "◌": "magenta"}
COLUMNS = (
    ("marker", " "),
    ("tag", "Version"),
    ("released", "Released"),
    ("status", "Status"),
    ("size", "Size"),
)


def _marker(row: VersionRow) -> Text:
    glyph = row.marker
    return Text(glyph, style=_MARKER_STYLE.get(glyph, ""))


def _status(row: VersionRow) -> Text:
    style = "bold" if row.default else ("magenta" if row.installing is not None else "")
    text = Text(row.status, style=style)
    if row.prerelease:
        text.highlight_words(["pre"], style="dim italic")
    return text


class VersionTable(DataTable[object]):
    """One row per tag (the row key); `show` replaces the rows and keeps the cursor's tag."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.rows_by_tag: dict[str, VersionRow] = {}

    def on_mount(self) -> None:
        for key, label in COLUMNS:  # a Text: a str label is parsed as markup (and emoji codes)
            self.add_column(Text(label), key=key)

    @property
    def selected_tag(self) -> str | None:
        if not self.rows_by_tag or self.cursor_row < 0 or self.cursor_row >= self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return key if isinstance(key, str) else None

    def show(self, rows: list[VersionRow]) -> None:
        """Replace every row; the cursor stays on the same tag when it is still listed."""
        keep = self.selected_tag if self.cursor_row > 0 else None  # the top stays the top
        self.clear()
        self.rows_by_tag = {row.tag: row for row in rows}
        for row in rows:
            self.add_row(_marker(row), row.tag, row.released, _status(row), row.size, key=row.tag)
        if keep in self.rows_by_tag:
            self.move_cursor(row=self.get_row_index(keep), animate=False)

    def update_row(self, row: VersionRow) -> None:
        """Refresh one listed row in place (marker and status), e.g. for install progress;
        nothing is redrawn when what it shows did not change (a log line of an install)."""
        old = self.rows_by_tag.get(row.tag)
        if old is None:
            return
        self.rows_by_tag[row.tag] = row
        if (_marker(old), _status(old)) == (_marker(row), _status(row)):
            return
        try:
            self.update_cell(row.tag, "marker", _marker(row))
            self.update_cell(row.tag, "status", _status(row), update_width=True)
        except RowDoesNotExist:
            pass

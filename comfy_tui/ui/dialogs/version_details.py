"""Details of one version: its install record (or release facts) and the log of its last install.

The screen gets plain data (`detail_lines`, the log lines): reading files is the caller's job,
done off the event loop.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, Log, Static

from comfy_tui.core.size_estimate import SizeEstimate
from comfy_tui.core.timefmt import format_date
from comfy_tui.core.units import format_bytes, format_duration
from comfy_tui.services.release_list import Release
from comfy_tui.store.version_records import VersionRecord
from comfy_tui.ui.dialogs import VERSION_DIALOG_CSS

LOG_TAIL = 200


def read_tail(path: Path, lines: int = LOG_TAIL) -> list[str]:
    """The last `lines` lines of a log file ([] when it is missing). Blocking: use a thread."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return text.splitlines()[-lines:]


def detail_lines(
    tag: str,
    record: VersionRecord | None,
    release: Release | None,
    default: bool,
    estimate: SizeEstimate | None = None,
) -> list[tuple[str, str]]:
    """(label, value) pairs for the details box, a few short lines; `estimate`: what an
    install of a release not installed would take."""
    title = tag
    if release is not None:
        named = f" “{release.name}”" if release.name and release.name != tag else ""
        pre = " · prerelease" if release.prerelease else ""
        title = f"{tag}{named} · released {format_date(release.published_at)}{pre}"
    lines: list[tuple[str, str]] = [("Release", title)]
    if release is not None and release.html_url:
        lines.append(("Notes", release.html_url))
    if record is None:
        lines.append(("Installed", "no — press i to install"))
        if estimate is not None:
            download = (
                f", {format_bytes(estimate.download_bytes)} to download"
                if estimate.download_bytes is not None
                else ""
            )
            size = f"about {format_bytes(estimate.disk_bytes)} on disk{download}"
            lines.append(("Size", f"{size} (from {estimate.basis})"))
        return lines
    when = datetime.fromtimestamp(record.installed_at, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    mark = " · default" if default else ""
    torch = f"torch {record.torch_version or '—'} ({record.torch_backend or '—'})"
    steps = (
        ", ".join(f"{k} {format_duration(v, precision=1)}" for k, v in record.step_seconds.items())
        or "—"
    )
    if record.adopted:
        mark += f" · adopted from {record.adopted} (remove only forgets it)"
    lines += [
        ("Installed", f"{when}{mark} · {format_bytes(record.size_bytes)}"),
        ("Versions", f"ComfyUI {record.comfyui_version or '—'} · Python "
                     f"{record.python_version or '—'} · {torch}"),
        ("Install", f"{record.installer} · commit {record.commit[:12] or '—'} · "
                    f"{len(record.flags)} flags"),
        ("Steps", steps),
        ("Path", record.path),
    ]  # fmt: skip
    return lines


class VersionDetailsScreen(ModalScreen[None]):
    """Escape, enter or `q` closes it."""

    CSS_PATH = VERSION_DIALOG_CSS

    BINDINGS = [Binding("escape,enter,q", "close", "Close", id="details-close")]

    def __init__(self, tag: str, lines: list[tuple[str, str]], log_lines: list[str]) -> None:
        super().__init__()
        self._tag = tag
        self.lines = lines
        self._log_lines = log_lines

    def compose(self) -> ComposeResult:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="bold", no_wrap=True)
        grid.add_column(overflow="fold")
        for label, value in self.lines:
            grid.add_row(label, Text(value))
        with Vertical(id="details-box"):
            yield Label(f"ComfyUI {self._tag}", id="details-title", markup=False)
            yield Static(grid, id="details-fields")
            yield Label("Last install log", id="details-log-title")
            yield Log(id="details-log", max_lines=LOG_TAIL)
            yield Label("escape closes", id="details-hint")

    def on_mount(self) -> None:
        log = self.query_one(Log)
        if self._log_lines:
            log.write_lines(self._log_lines)
        else:
            log.write_line("(no install log for this version)")

    def action_close(self) -> None:
        self.dismiss(None)

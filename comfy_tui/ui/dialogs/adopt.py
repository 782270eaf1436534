"""The adopt dialog (`a` on the Versions screen): an existing ComfyUI folder becomes a version.

First a form (path, optional name and venv); enter adopts. A bad path is explained under the
form, which stays open with what was typed. Once adopted, the dialog lists the folder's own
custom nodes with origin and commit; `s` shares the selected one (a job: a local clone at the
same commit into the shared nodes), escape closes. Dismisses with the adopted tag, or None.
The work is done by the callables it is given (the versions service and the nodes job).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label

from comfy_tui.errors import ComfyTuiError
from comfy_tui.store.version_records import VersionRecord
from comfy_tui.ui.dialogs import VERSION_DIALOG_CSS

if TYPE_CHECKING:
    from comfy_tui.services.adopt_nodes import OwnNodeInfo

__all__ = ["AdoptScreen"]

Adopt = Callable[[Path, str | None, Path | None], Awaitable[VersionRecord]]
ListNodes = Callable[[str], Awaitable[list["OwnNodeInfo"]]]
Share = Callable[[str, str], None]

INTRO = (
    "A ComfyUI folder with its environment: a git clone with venv/ or .venv/, a comfy-cli "
    "workspace or a portable folder. It stays where it is; remove only forgets it."
)


def _expand(value: str) -> Path:
    return Path(value).expanduser()


class AdoptScreen(ModalScreen[str | None]):
    """`adopt(path, name, venv)` makes the version; `nodes(tag)` lists its own nodes;
    `share(tag, node)` starts sharing one."""

    CSS_PATH = VERSION_DIALOG_CSS

    BINDINGS = [
        Binding("escape", "cancel", "Close", id="adopt-cancel"),
        Binding("s", "share", "Share node", id="adopt-share"),
    ]
    AUTO_FOCUS = "#adopt-path"

    def __init__(self, *, adopt: Adopt, nodes: ListNodes, share: Share) -> None:
        super().__init__()
        self._do_adopt = adopt
        self._list_nodes = nodes
        self._do_share = share
        self.record: VersionRecord | None = None
        self.own: list[OwnNodeInfo] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="adopt-box"):
            yield Label("Adopt an existing ComfyUI", id="adopt-title", markup=False)
            with Vertical(id="adopt-form"):
                yield Label(INTRO, id="adopt-intro", markup=False)
                for field, label, hint in (
                    ("path", "Folder", "~/ComfyUI"),
                    ("name", "Name", "adopted-<its version>"),
                    ("venv", "Environment", "found inside: .venv/, venv/, python_embeded/"),
                ):
                    with Horizontal(classes="adopt-row"):
                        yield Label(label, classes="adopt-label")
                        yield Input(placeholder=hint, compact=True, id=f"adopt-{field}")
                yield Label("", id="adopt-error", markup=False)
                with Horizontal(id="adopt-buttons"):
                    yield Button("Adopt", id="adopt-go", variant="primary", compact=True)
                    yield Button("Cancel", id="adopt-no", compact=True)
            with Vertical(id="adopt-result"):
                yield Label("", id="adopt-summary", markup=False)
                yield DataTable(id="adopt-nodes", cursor_type="row", zebra_stripes=False)
                yield Label("", id="adopt-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one("#adopt-error", Label).display = False
        self.query_one("#adopt-result").display = False
        table = self.query_one("#adopt-nodes", DataTable)
        for key, label in (("name", "Node"), ("commit", "Commit"), ("state", "Shared"),
                           ("origin", "Origin")):  # fmt: skip
            table.add_column(label, key=key)

    # --- the form -------------------------------------------------------------------------
    def _value(self, field: str) -> str:
        return self.query_one(f"#adopt-{field}", Input).value.strip()

    def _error(self, text: str) -> None:
        error = self.query_one("#adopt-error", Label)
        error.update(text)
        error.display = bool(text)

    def submit(self) -> None:
        if self.record is not None:
            return
        if not self._value("path"):
            self._error("Type the folder of the ComfyUI to adopt.")
            return
        self._error("")
        self.query_one("#adopt-go", Button).disabled = True
        self._run()

    @work(group="adopt", exclusive=True, exit_on_error=False)
    async def _run(self) -> None:
        venv = self._value("venv")
        try:
            record = await self._do_adopt(
                _expand(self._value("path")),
                self._value("name") or None,
                _expand(venv) if venv else None,
            )
            own = await self._list_nodes(record.tag)
        except ComfyTuiError as exc:
            self._error(str(exc))
            self.query_one("#adopt-go", Button).disabled = False
            return
        self.show_result(record, own)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "adopt-go":
            self.submit()
        else:
            self.dismiss(None)

    # --- the result -----------------------------------------------------------------------
    def show_result(self, record: VersionRecord, own: list[OwnNodeInfo]) -> None:
        """Switch to the adopted version and its own nodes (also used by snapshot tests)."""
        self.record, self.own = record, own
        self.query_one("#adopt-form").display = False
        self.query_one("#adopt-result").display = True
        self.query_one("#adopt-title", Label).update(f"Adopted {record.tag}")
        torch = f"torch {record.torch_version}" if record.torch_version else "no torch"
        env = record.installer.removeprefix("adopted (").removesuffix(")")
        self.query_one("#adopt-summary", Label).update(
            f"ComfyUI {record.comfyui_version or '?'} at {record.path}\n"
            f"Python {record.python_version} in {env}, {torch}. Launch it like any version; "
            "remove only forgets it."
        )
        self._fill()
        table = self.query_one("#adopt-nodes", DataTable)
        table.display = bool(own)
        if own:
            table.focus()
        self.refresh_bindings()

    def _fill(self) -> None:
        table = self.query_one("#adopt-nodes", DataTable)
        table.clear()
        for node in self.own:
            origin = node.origin.removeprefix("https://") or (
                "no origin" if node.kind == "git" else f"a {node.kind} of its own"
            )
            state = "yes" if node.shared else ("can share" if self._shareable(node) else "—")
            table.add_row(node.name, node.commit[:12] or "—", state, origin, key=node.name)
        hint = self.query_one("#adopt-hint", Label)
        if not self.own:
            hint.update("Its custom_nodes/ has no nodes of its own. escape closes")
        else:
            hint.update(
                f"{len(self.own)} own node(s) · s shares the selected one (a copy at the same "
                "commit other versions can enable) · escape closes"
            )

    @staticmethod
    def _shareable(node: OwnNodeInfo) -> bool:
        return node.kind == "git" and node.origin.startswith("https://") and not node.shared

    def selected_node(self) -> OwnNodeInfo | None:
        table = self.query_one("#adopt-nodes", DataTable)
        if not self.own or table.cursor_row < 0 or table.cursor_row >= len(self.own):
            return None
        return self.own[table.cursor_row]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "share":
            return self.record is not None and bool(self.own)
        return True

    def action_share(self) -> None:
        node, record = self.selected_node(), self.record
        if node is None or record is None:
            return
        if not self._shareable(node):
            why = "it is shared already" if node.shared else "it has no https origin"
            self.notify(f"{node.name} cannot be shared: {why}", severity="warning")
            return
        self._do_share(record.tag, node.name)
        self.own = [dataclasses.replace(n, shared=True) if n is node else n for n in self.own]
        self._fill()

    def action_cancel(self) -> None:
        self.dismiss(self.record.tag if self.record else None)

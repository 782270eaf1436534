"""The install dialog: torch build (the detected one pre-selected, with why), Python, torch index.

Opened by `i` on the Versions screen. Starts from the answers last confirmed on this box
(`store/install_choices.py`); dismisses with an `InstallRequest`, or None when cancelled.
Enter on the Install button (focused first) installs with what is shown.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Checkbox, Input, Label, Select

from comfy_tui.core.torch_backend import CUDA_BUILDS, TorchChoice, validate_torch
from comfy_tui.errors import ValidationError
from comfy_tui.store.install_choices import InstallChoices
from comfy_tui.ui.dialogs import VERSION_DIALOG_CSS
from comfy_tui.ui.dialogs.form import FormDialog, in_field

__all__ = ["InstallRequest", "InstallScreen"]

ROCM_BUILDS = ("rocm6.4", "rocm6.3")


@dataclass(frozen=True)
class InstallRequest:
    tag: str
    torch: str
    python: str
    torch_index: str  # "" = the torch_index_url setting, else PyTorch's index
    force: bool = False  # install even when the disk looks too small (not remembered)

    @property
    def choices(self) -> InstallChoices:
        return InstallChoices(self.torch, self.python, self.torch_index)


def _check_python(value: str) -> str:
    if not value:
        raise ValidationError("give the Python for the new environment")
    found = shutil.which(value) if "/" not in value else (value if Path(value).is_file() else None)
    if not found:
        raise ValidationError(f"no Python at {value}")
    return value


def _check_index(value: str) -> str:
    from comfy_tui.services.versions import validate_torch_index

    return validate_torch_index(value) if value else ""


class InstallScreen(FormDialog[InstallRequest]):
    """Asks how to install `tag`; every field starts at what fits this box."""

    CSS_PATH = VERSION_DIALOG_CSS

    PREFIX = "install"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="install-cancel")]
    AUTO_FOCUS = "#install-go"

    def __init__(
        self,
        tag: str,
        *,
        detected: TorchChoice,
        choices: InstallChoices,
        index_setting: str | None,
    ) -> None:
        super().__init__()
        self.tag = tag
        self.detected = detected
        self.choices = choices
        self.index_setting = index_setting

    def compose(self) -> ComposeResult:
        builds = [(f"auto → {self.detected.backend}", "auto")]
        builds += [(backend, backend) for backend, _, _ in CUDA_BUILDS]
        builds += [("cpu", "cpu"), *((r, r) for r in ROCM_BUILDS)]
        builds += [("none (torch from requirements.txt)", "none")]
        known = {value for _, value in builds}
        torch = self.choices.torch if self.choices.torch in known else "auto"
        index_hint = self.index_setting or "PyTorch's index for the build"
        with Vertical(id="install-box"):
            yield Label(f"Install ComfyUI {self.tag}", id="install-title")
            with Horizontal(classes="install-row"):
                yield Label("Torch build", classes="install-label")
                yield Select(builds, value=torch, allow_blank=False, compact=True,
                             id="install-torch")  # fmt: skip
            yield Label(f"detected: {self.detected.reason}", id="install-detected", markup=False)
            with Horizontal(classes="install-row"):
                yield Label("Python", classes="install-label")
                yield Input(value=self.choices.python, compact=True, id="install-python")
            with Horizontal(classes="install-row"):
                yield Label("Torch index", classes="install-label")
                yield Input(
                    value=self.choices.torch_index,
                    placeholder=f"{index_hint}; or a URL, or: sources",
                    compact=True,
                    id="install-index",
                )
            yield Checkbox(
                "Install even when the disk looks too small (--force)",
                compact=True,
                id="install-force",
            )
            yield from self.form_end("Install")

    def build_request(self) -> InstallRequest:
        value = self.query_one("#install-torch", Select).value
        torch = validate_torch(value if isinstance(value, str) else "auto")
        typed_python = self.query_one("#install-python", Input).value.strip()
        python = in_field("install-python", lambda: _check_python(typed_python))
        typed_index = self.query_one("#install-index", Input).value.strip()
        index = in_field("install-index", lambda: _check_index(typed_index))
        force = self.query_one("#install-force", Checkbox).value
        return InstallRequest(self.tag, torch, python, index, force)

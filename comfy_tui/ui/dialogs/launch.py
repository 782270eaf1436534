"""The launch dialog: version, port, GPU, listen address, extra flags, environment,
auto-restart.

Dismisses with a `LaunchRequest`, or None when cancelled. Extra flags are checked against
what the chosen version's `main.py --help` accepts before the dialog closes.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Checkbox, Input, Label, Select

from comfy_tui.errors import ValidationError
from comfy_tui.services.instances.command import check_extra_args
from comfy_tui.services.instances.launch import LaunchRequest
from comfy_tui.services.instances.ports import listens_everywhere
from comfy_tui.store.version_records import VersionRecord
from comfy_tui.ui.dialogs.form import FormDialog, in_field
from comfy_tui.validate import validate_env_assignment, validate_listen, validate_port

AUTO = "auto"


class LaunchScreen(FormDialog[LaunchRequest]):
    """Asks how to launch; every field has a sensible default (enter launches at once)."""

    PREFIX = "launch"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="launch-cancel")]
    AUTO_FOCUS = "#launch-version"

    def __init__(
        self,
        versions: Sequence[VersionRecord],
        *,
        default: str | None,
        gpu_count: int,
        listen: str,
        base_port: int,
    ) -> None:
        super().__init__()
        self.versions = {v.tag: v for v in versions}
        self.default = default if default in self.versions else next(iter(self.versions), None)
        self.gpu_count = gpu_count
        self.listen = listen
        self.base_port = base_port

    def compose(self) -> ComposeResult:
        gpus: list[tuple[str, str]] = [("auto (least used)", AUTO)]
        gpus += [(f"GPU {i}", str(i)) for i in range(self.gpu_count)]
        with Vertical(id="launch-box"):
            yield Label("Launch ComfyUI", id="launch-title")
            with Horizontal(classes="launch-row"):
                yield Label("Version", classes="launch-label")
                yield Select(
                    [(tag, tag) for tag in self.versions],
                    value=self.default or Select.NULL,
                    allow_blank=False,
                    compact=True,
                    id="launch-version",
                )
            with Horizontal(classes="launch-row"):
                yield Label("Port", classes="launch-label")
                yield Input(
                    placeholder=f"auto (first free from {self.base_port})",
                    compact=True,
                    id="launch-port",
                )
            with Horizontal(classes="launch-row"):
                yield Label("GPU", classes="launch-label")
                if self.gpu_count:
                    yield Select(gpus, value=AUTO, allow_blank=False, compact=True, id="launch-gpu")
                else:
                    yield Label("none found: runs on the CPU", id="launch-gpu-none")
            with Horizontal(classes="launch-row"):
                yield Label("Listen address", classes="launch-label")
                yield Input(value=self.listen, compact=True, id="launch-listen")
            yield Label("", id="launch-exposed", markup=False)
            with Horizontal(classes="launch-row"):
                yield Label("Extra flags", classes="launch-label")
                yield Input(placeholder="e.g. --lowvram", compact=True, id="launch-extra")
            yield Label("", id="launch-flags", markup=False)
            with Horizontal(classes="launch-row"):
                yield Label("Environment", classes="launch-label")
                yield Input(placeholder="KEY=VALUE ... e.g. HF_HOME=/data/hf", compact=True,
                            id="launch-env")  # fmt: skip
            yield Checkbox(
                "Restart after a crash (at most 3 times in 5 minutes)",
                compact=True,
                id="launch-auto",
            )
            yield from self.form_end("Launch")

    def on_mount(self) -> None:
        self._show_flags()
        self._show_exposed()

    # --- live hints ---------------------------------------------------------------------------
    def _version(self) -> VersionRecord | None:
        value = self.query_one("#launch-version", Select).value
        return self.versions.get(value) if isinstance(value, str) else None

    def _show_flags(self) -> None:
        version = self._version()
        owned = {"--listen", "--port", "--cuda-device", "--disable-auto-launch"}
        flags = [f for f in (version.flags if version else ()) if f not in owned]
        text = ("accepts: " + " ".join(flags)) if flags else "flags of this version are unknown"
        self.query_one("#launch-flags", Label).update(text)

    def _show_exposed(self) -> None:
        value = self.query_one("#launch-listen", Input).value.strip()
        warn = "⚠ all interfaces: anyone who can reach this box can use it"
        label = self.query_one("#launch-exposed", Label)
        label.update(warn if value and listens_everywhere(value) else "")
        label.display = bool(value and listens_everywhere(value))

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "launch-version":
            self._show_flags()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "launch-listen":
            self._show_exposed()

    # --- answer --------------------------------------------------------------------------------
    def _extra(self, version: VersionRecord) -> list[str]:
        try:
            extra = shlex.split(self.query_one("#launch-extra", Input).value)
        except ValueError as exc:
            raise ValidationError(f"extra flags: {exc}") from None
        check_extra_args(version, extra)
        return extra

    def _env(self) -> dict[str, str]:
        try:
            assignments = shlex.split(self.query_one("#launch-env", Input).value)
        except ValueError as exc:
            raise ValidationError(f"environment: {exc}") from None
        return dict(validate_env_assignment(item) for item in assignments)

    def build_request(self) -> LaunchRequest:
        version = self._version()
        if version is None:
            raise ValidationError("choose a version to launch")
        port_text = self.query_one("#launch-port", Input).value.strip()
        port = in_field("launch-port", lambda: validate_port(port_text)) if port_text else None
        gpu: int | None = None
        if self.gpu_count:
            value = self.query_one("#launch-gpu", Select).value
            gpu = int(value) if isinstance(value, str) and value != AUTO else None
        typed = self.query_one("#launch-listen", Input).value.strip() or self.listen
        listen = in_field("launch-listen", lambda: validate_listen(typed))
        extra = in_field("launch-extra", lambda: self._extra(version))
        env = in_field("launch-env", self._env)
        return LaunchRequest(
            version=version.tag,
            port=port,
            gpu=gpu,
            listen=listen,
            extra_args=tuple(extra),
            env=env,
            auto_restart=self.query_one("#launch-auto", Checkbox).value,
        )

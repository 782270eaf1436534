"""The Versions screen's installs: the install dialog, the install as an App job
(`JobKind.INSTALL`, so it survives mode switches) and its panel, followed through
`app.job_updates`; `i` installs the selected release, escape cancels an install.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from textual import work

from comfy_tui.errors import ComfyTuiError
from comfy_tui.events import Event
from comfy_tui.runner import JobKey, JobKind, JobUpdate
from comfy_tui.store.install_choices import InstallChoices
from comfy_tui.ui.screens.versions_data import VersionsData
from comfy_tui.ui.widgets.version_table import VersionTable

if TYPE_CHECKING:  # the install dialog is imported when first opened
    from comfy_tui.ui.dialogs.install import InstallRequest


class VersionInstalls(VersionsData):
    """The install keys' actions and the install panels' job updates."""

    def start_install(
        self,
        tag: str,
        torch: str = "auto",
        *,
        torch_index: str = "",
        python: str = "",
        ref: bool = False,
        name: str = "",
        force: bool = False,
    ) -> None:
        """Start the install of `tag` as an App job and show its panel. With `ref`, `tag` is a
        branch, tag or commit (`comfy-tui install REF [--name NAME]`, services.lifecycle)."""
        versions = self.comfy_app.services.versions
        events: Callable[[], AsyncIterator[Event]]
        if ref:
            try:
                job = self.comfy_app.services.lifecycle.install(
                    tag,
                    name=name or None,
                    torch=torch,
                    torch_index=torch_index or None,
                    python=python or None,
                    force=force,
                )
            except ComfyTuiError as exc:
                self.show_error(f"Install {tag}", exc)
                return
            events = job.events
        else:

            def events() -> AsyncIterator[Event]:
                return versions.install(
                    tag, torch, torch_index=torch_index or None, python=python or None, force=force
                )

        self.installs.add(tag, torch)
        self.refresh_bindings()
        self.comfy_app.start_job(JobKey(JobKind.INSTALL, tag), f"install {tag}", events)
        self.render_rows()

    @work(group="versions:ask-install", exit_on_error=False)
    async def ask_install(self, tag: str, *, ref: bool = False, name: str = "") -> None:
        """The install dialog for `tag` (a release; with `ref`, any branch, tag or commit,
        installed as `name`); starts the install it answers with."""
        from comfy_tui.ui.dialogs.install import InstallScreen

        versions = self.comfy_app.services.versions
        detected = await versions.detected_torch()
        remembered = await versions.install_choices()
        settings = self.comfy_app.services.settings
        choices = remembered or InstallChoices(python=settings.python)
        dialog = InstallScreen(
            tag, detected=detected, choices=choices, index_setting=settings.torch_index_url
        )

        async def answered(request: InstallRequest | None) -> None:
            if request is None:
                return
            await versions.remember_install_choices(request.choices)
            self.start_install(
                request.tag,
                request.torch,
                torch_index=request.torch_index,
                python=request.python,
                ref=ref,
                name=name,
                force=request.force,
            )

        await self.app.push_screen(dialog, answered)

    def _on_job_update(self, update: JobUpdate) -> None:
        followed = self.installs.follow(update)
        if followed is None:
            return
        tag, state = followed
        if state == "running":
            row = next((r for r in self.rows() if r.tag == tag), None)
            if row is not None:
                self.query_one(VersionTable).update_row(row)
            return
        self.refresh_bindings()
        if state == "finished":
            self.notify(f"ComfyUI {tag} is installed", title="Install")
        elif state == "cancelled":
            self.notify(f"The install of {tag} was cancelled; nothing was kept", title="Install")
        self._reload_local()

    def action_install(self) -> None:
        row = self.selected()
        if row is None:
            self.notify("Select a release to install first", severity="warning")
        elif row.installed:
            self.notify(f"{row.tag} is already installed", severity="warning")
        elif row.tag in self.installs.panels:
            self.notify(f"{row.tag} is being installed", severity="warning")
        else:
            self.ask_install(row.tag)

    def action_cancel_install(self) -> None:
        row = self.selected()
        panels = self.installs.panels
        if row is not None and row.tag in panels:
            tag = row.tag
        elif len(panels) == 1:
            tag = next(iter(panels))
        else:
            self.notify("Select the version whose install you want to cancel", severity="warning")
            return
        self.comfy_app.cancel_job(JobKey(JobKind.INSTALL, tag))

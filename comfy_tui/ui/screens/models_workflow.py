"""The Models screen's `w`: which models and custom nodes a workflow needs (`models needs FILE
[--version TAG]`), in a dialog whose `d` queues the missing downloads and `v` checks the nodes
against another installed version. Each step awaits a service in a worker of the screen.
"""

from __future__ import annotations

from pathlib import Path

from textual import work

from comfy_tui.aio import to_thread
from comfy_tui.core.units import plural
from comfy_tui.errors import ComfyTuiError
from comfy_tui.services.library.needs import Need, download_request, workflow_needs
from comfy_tui.ui.dialogs.text_input import TextInputScreen
from comfy_tui.ui.dialogs.workflow_needs import WorkflowNeedsScreen
from comfy_tui.ui.screens.models_downloads import DownloadsMixin


class WorkflowNeedsMixin(DownloadsMixin):
    """`w`'s action and workers; the missing downloads go to the App's queue."""

    def action_workflow(self) -> None:
        def answered(path: str | None) -> None:
            if path:
                self._workflow(Path(path).expanduser())

        prompt = "Path of a workflow file (API or UI JSON, or a PNG/WebP ComfyUI saved):"
        self.app.push_screen(TextInputScreen("Workflow needs", prompt), answered)

    @work(group="models:workflow")
    async def _workflow(self, path: Path, tag: str | None = None) -> None:
        """`models needs FILE [--version TAG]`: the models, and the nodes `tag` (else the
        default version) lacks; the dialog's `v` asks for another version and checks again."""
        from comfy_tui.services.workflow_nodes import nodes_needed

        services = self.comfy_app.services
        try:
            needs = await workflow_needs(services.library, path)
            nodes = await nodes_needed(services.settings, services.paths, path, tag)
        except ComfyTuiError as exc:
            self.notify(str(exc), severity="error")
            return

        def answered(choice: str | None) -> None:
            if choice == "download":
                self._fetch(needs)
            elif choice == "version":
                self._pick_version(path)

        self.app.push_screen(WorkflowNeedsScreen(path.name, needs, nodes), answered)

    @work(group="models:workflow")
    async def _pick_version(self, path: Path) -> None:
        from comfy_tui.store.version_records import list_records
        from comfy_tui.ui.dialogs.pick import PickScreen

        records = await to_thread(list_records, self.comfy_app.services.paths)
        if not records:
            self.notify("No version is installed to check the nodes against.")
            return

        def picked(tag: str | None) -> None:
            if tag:
                self._workflow(path, tag)

        choices = [(r.tag, r.tag) for r in records]
        self.app.push_screen(PickScreen(f"Check {path.name}'s nodes against", choices), picked)

    @work(group="models:workflow")
    async def _fetch(self, needs: list[Need]) -> None:
        queued = 0
        for need in needs:
            request = download_request(need)
            if request is None:
                continue
            try:
                await self.queue.add(request)
                queued += 1
            except ComfyTuiError as exc:
                self.notify(f"{need.shown}: {exc}", severity="error")
        if queued:
            self.notify(f"Queued {plural(queued, 'download')}.")

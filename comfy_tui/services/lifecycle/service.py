"""LifecycleService: the second day of a version, one API for the CLI and the TUI.

    life = services.lifecycle
    job = life.install("master", name=None)          # RefInstall: job.events(), then job.name
    newer = await life.newer_releases(record)         # release tags the version lacks
    async for event in life.update("master-1a2b3c4"): ...          # services/lifecycle/update.py
    async for event in life.rollback("master-1a2b3c4"): ...        # the last update or switch
    rehearsal = life.upgrade("v0.3.77", "v0.4.0"); async for e in rehearsal.events(): ...
    async for event in life.switch("v0.3.77", "v0.4.0"): ...       # services/lifecycle/switch.py

The guard (which versions run, the version lock), the versions, nodes and instances services
are required arguments: `services/container.py` wires them for every front end.
"""

from __future__ import annotations

from comfy_tui.paths import DataPaths
from comfy_tui.services.lifecycle.install_ref import RefInstall
from comfy_tui.services.lifecycle.refmirror import RefMirror
from comfy_tui.services.version_guard import VersionGuard
from comfy_tui.services.versions import VersionsService
from comfy_tui.settings import Settings
from comfy_tui.store.version_records import VersionRecord

__all__ = ["LifecycleService"]


class LifecycleService:
    """Install any ref, update, upgrade rehearsal, switch and rollback."""

    def __init__(
        self,
        settings: Settings,
        paths: DataPaths,
        *,
        guard: VersionGuard,
        versions: VersionsService,
    ) -> None:
        self.settings = settings
        self.paths = paths
        self.guard = guard
        self.versions = versions

    def mirror(self, ref: str | None = None) -> RefMirror:
        return RefMirror(self.settings.comfyui_repo, self.paths.comfyui_mirror(), ref)

    # --- install -------------------------------------------------------------------------
    def install(
        self,
        ref: str,
        *,
        name: str | None = None,
        torch: str = "auto",
        torch_index: str | None = None,
        python: str | None = None,
        force: bool = False,
    ) -> RefInstall:
        """An install of a tag, branch or commit (checked now: ValidationError, exit 2);
        `force` goes on when the disk looks too small."""
        return RefInstall(self.versions, ref, name, torch, torch_index, python, force)

    # --- facts ---------------------------------------------------------------------------
    async def newer_releases(self, record: VersionRecord) -> list[str]:
        """Release tags in the mirror (as last fetched) that the version's commit lacks."""
        return await self.mirror().newer_releases(record.commit)

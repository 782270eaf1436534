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

import asyncio
from collections.abc import AsyncGenerator
from typing import TYPE_CHECKING

from comfy_tui.core.refs import validate_ref
from comfy_tui.errors import InstallError, NotFoundError
from comfy_tui.events import Event, Step, forwards
from comfy_tui.paths import DataPaths
from comfy_tui.services.lifecycle import changes
from comfy_tui.services.lifecycle.install_ref import RefInstall
from comfy_tui.services.lifecycle.refmirror import RefMirror
from comfy_tui.services.version_guard import VersionGuard
from comfy_tui.services.versions import VersionsService
from comfy_tui.settings import Settings
from comfy_tui.store.version_records import VersionRecord

if TYPE_CHECKING:
    from comfy_tui.services.instances.service import InstancesService
    from comfy_tui.services.lifecycle.rehearsal import Upgrade
    from comfy_tui.services.nodes import NodesService
from comfy_tui.validate import validate_tag

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
        nodes: NodesService,
        instances: InstancesService,
    ) -> None:
        """`guard`: no update or rollback of a running version; `nodes` enables FROM's nodes
        in TO (with its consent rules); `instances` moves running instances in a switch."""
        self.settings = settings
        self.paths = paths
        self.guard = guard
        self.versions = versions
        self.nodes = nodes
        self.instances = instances

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

    # --- update / rollback ---------------------------------------------------------------
    def update(self, name: str, to: str | None = None) -> AsyncGenerator[Event, None]:
        """Move NAME to the newest commit of its branch, or to `to` (services/lifecycle/
        update.py); refused while NAME runs. Bad input fails now (ValidationError)."""
        name = validate_tag(name)
        if to is not None:
            to = validate_ref(to)
        from comfy_tui.services.lifecycle.update import update_version

        return update_version(self.settings, self.paths, self.guard, name, to)

    async def last_change(self, name: str) -> changes.Change | None:
        """What `rollback NAME` would undo (None: nothing)."""
        return await asyncio.to_thread(changes.load_change, self.paths, validate_tag(name))

    def rollback(self, name: str) -> AsyncGenerator[Event, None]:
        """Undo NAME's last update or switch (services/lifecycle/changes.py says which)."""
        return self._rollback(validate_tag(name))

    @forwards
    async def _rollback(self, name: str) -> AsyncGenerator[Step, None]:
        change = await self.last_change(name)
        if change is None:
            raise NotFoundError(
                f"nothing to roll back for {name}: no update of it or switch from it is remembered"
            )
        if change.kind == "update":
            from comfy_tui.services.lifecycle.rollback import rollback_update

            events = rollback_update(self.paths, self.guard, change)
        else:
            events = self._switch_back(change)
        yield events

    def _switch_back(self, change: changes.Change) -> AsyncGenerator[Event, None]:
        from comfy_tui.services.lifecycle.switch import switch_back

        return switch_back(self.paths, self.instances, change)

    # --- upgrade ---------------------------------------------------------------------------
    def upgrade(self, source: str, target: str) -> Upgrade:
        """A rehearsal of FROM -> TO (services/lifecycle/rehearsal.py); checked now."""
        from comfy_tui.services.lifecycle.rehearsal import Upgrade

        return Upgrade(self.versions, self.nodes, source, target)

    def switch(self, upgrade: Upgrade) -> AsyncGenerator[Event, None]:
        """Move FROM's running instances to TO and make TO the default (services/lifecycle/
        switch.py); refused unless the rehearsal ran and every node loaded."""
        report = upgrade.report
        if not report.ok:
            bad = ", ".join(f"{n.name} ({n.status})" for n in report.nodes if not n.ok)
            raise InstallError(
                f"not switching {report.source} to {report.target or upgrade.target_ref}: "
                f"{bad or 'the rehearsal did not finish'}"
            )
        from comfy_tui.services.lifecycle.switch import switch

        return switch(self.paths, self.guard, self.instances, report.source, report.target)

    # --- facts ---------------------------------------------------------------------------
    async def newer_releases(self, record: VersionRecord) -> list[str]:
        """Release tags in the mirror (as last fetched) that the version's commit lacks."""
        return await self.mirror().newer_releases(record.commit, record.comfyui_version)

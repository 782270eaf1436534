"""Taking, listing and finding environment snapshots of installed versions.

`capture` records the version's ComfyUI commit, each custom node it loads with its commit, and
`uv pip freeze` of its venv, into `metadata/snapshots/<tag>/<id>.json`. The nodes service calls
it before every node or dependency change; `create` is the on-demand form (it takes the
version's lock, so it never records a half-made change). Restoring lives in `restore.py`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from comfy_tui.core.node_plan import PackageChange, diff_packages
from comfy_tui.errors import NotFoundError, ValidationError
from comfy_tui.paths import DataPaths
from comfy_tui.services.flock import AsyncFileLock
from comfy_tui.services.nodes.checkouts import NodeCheckout
from comfy_tui.services.nodes.links import custom_nodes_dir, read_version_nodes
from comfy_tui.services.nodes.uvtool import VenvTool
from comfy_tui.services.nodes.version_env import VersionEnv, load_version
from comfy_tui.settings import Settings
from comfy_tui.store import envsnap_records as store
from comfy_tui.store import node_records
from comfy_tui.store.envsnap_records import NodeState, Snapshot
from comfy_tui.validate import validate_tag

log = logging.getLogger(__name__)

__all__ = ["RestorePreview", "SnapshotTaker", "node_differences", "version_lock"]


@dataclass(frozen=True)
class RestorePreview:
    """What restoring `snapshot` would change: packages, and node lines for people."""

    snapshot: Snapshot
    packages: tuple[PackageChange, ...]
    nodes: tuple[str, ...]


def node_differences(now: tuple[NodeState, ...], then: tuple[NodeState, ...]) -> list[str]:
    """`Alpha: 1a2b3c4d5e6f → 0f9e8d7c6b5a`, `Beta: enabled`, `Gamma: disabled` lines."""
    current = {n.name: n for n in now}
    lines = []
    for node in then:
        was = current.get(node.name)
        if node.kind == "shared" and (was is None or was.kind != "shared"):
            lines.append(f"{node.name}: enabled at {node.commit[:12] or '?'}")
        elif was is not None and node.commit and was.commit != node.commit:
            lines.append(f"{node.name}: {was.commit[:12] or '?'} → {node.commit[:12]}")
    wanted = {n.name for n in then if n.kind == "shared"}
    lines += [f"{n.name}: disabled" for n in now if n.kind == "shared" and n.name not in wanted]
    return lines


def version_lock(paths: DataPaths, tag: str) -> AsyncFileLock:
    """The version's install lock: held while it is installed, removed, or its nodes or venv
    change (so those never overlap, in any process)."""
    return AsyncFileLock(
        paths.install_lock(tag),
        timeout=0,
        busy=f"{tag} is being installed, removed or changed right now; try again when that ends",
    )


class SnapshotTaker:
    """Snapshots of one data dir. `now` (unix time) is injectable for tests."""

    def __init__(
        self, settings: Settings, paths: DataPaths, *, now: Callable[[], float] = time.time
    ) -> None:
        self.settings = settings
        self.paths = paths
        self.now = now
        self._tool: VenvTool | None = None

    def tool(self) -> VenvTool:
        if self._tool is None:
            self._tool = VenvTool.from_settings(self.settings, self.paths)
        return self._tool

    async def node_states(self, env: VersionEnv) -> tuple[NodeState, ...]:
        """Every custom node the version loads, with its commit."""
        nodes_dir = self.paths.nodes_dir()
        found = await asyncio.to_thread(read_version_nodes, env.tag, env.path, nodes_dir)
        states = []
        for name in found.shared:
            record = await asyncio.to_thread(node_records.load_node, self.paths, name)
            commit = await NodeCheckout(nodes_dir / name).head()
            states.append(NodeState(name, "shared", commit, record.url if record else ""))
        for own in found.own:
            commit = ""
            if own.kind == "git":
                commit = await NodeCheckout(custom_nodes_dir(env.path) / own.name).head()
            states.append(NodeState(own.name, "own", commit))
        return tuple(states)

    async def capture(self, env: VersionEnv, reason: str) -> Snapshot:
        """Record the version as it is now (the caller holds the version's lock)."""
        packages = await self.tool().freeze(env.python)
        nodes = await self.node_states(env)
        comfyui = await NodeCheckout(env.path).head() or env.record.commit
        when = self.now()
        snapshot_id = await asyncio.to_thread(store.new_id, self.paths, env.tag, when)
        snapshot = Snapshot(snapshot_id, env.tag, when, reason, comfyui, nodes, packages)
        await asyncio.to_thread(store.save_snapshot, self.paths, snapshot)
        log.info("snapshot %s of %s taken (%s)", snapshot_id, env.tag, reason)
        keep = self.settings.snapshots_keep
        dropped = await asyncio.to_thread(store.prune_snapshots, self.paths, env.tag, keep)
        if dropped:
            log.info("snapshots of %s beyond the newest %d deleted: %s", env.tag, keep, dropped)
        return snapshot

    async def create(self, tag: str, reason: str = "on demand") -> Snapshot:
        """Take a snapshot now. NotFoundError when `tag` is not installed, LockBusyError while
        it is being changed."""
        env = await load_version(self.paths, tag)
        async with version_lock(self.paths, env.tag):
            return await self.capture(env, reason)

    async def preview(self, tag: str, snapshot_id: str | None = None) -> RestorePreview:
        """What `restore` would change now (nothing is changed)."""
        env = await load_version(self.paths, tag)
        target = await self.get(env.tag, snapshot_id)
        packages = await self.tool().freeze(env.python)
        nodes = await self.node_states(env)
        return RestorePreview(
            target,
            tuple(diff_packages(packages, target.packages)),
            tuple(node_differences(nodes, target.nodes)),
        )

    async def list(self, tag: str) -> list[Snapshot]:
        """Every snapshot of `tag`, newest first (also for a version removed since)."""
        return await asyncio.to_thread(store.list_snapshots, self.paths, validate_tag(tag))

    async def get(self, tag: str, snapshot_id: str | None = None) -> Snapshot:
        """The snapshot `snapshot_id` (a unique start of an id is enough), or the newest."""
        snapshots = await self.list(tag)
        if not snapshots:
            raise NotFoundError(f"{tag} has no snapshots (comfy-tui snapshot create {tag})")
        if snapshot_id is None:
            return snapshots[0]
        wanted = store.validate_snapshot_id(snapshot_id)
        exact = [s for s in snapshots if s.id == wanted]
        matches = exact or [s for s in snapshots if s.id.startswith(wanted)]
        if not matches:
            raise NotFoundError(f"{tag} has no snapshot {wanted} (comfy-tui snapshot list {tag})")
        if len(matches) > 1:
            shown = ", ".join(s.id for s in matches[:4])
            raise ValidationError(f"snapshot id {wanted} is ambiguous: it starts {shown}")
        return matches[0]

"""NodesService: shared custom nodes enabled per version, their dependencies, and snapshots.

The one API both front ends use for custom nodes::

    nodes = NodesService(settings, paths, guard=services.guard)
    async for event in nodes.add("https://github.com/owner/ComfyUI-Thing"): ...
    plan = await nodes.plan("ComfyUI-Thing", "v0.3.77")    # uv dry run: nothing changes
    plan.summary(), plan.blocked                           # show these, ask the user here
    async for event in nodes.enable(plan, run_install_script=False): ...
    await nodes.disable("ComfyUI-Thing", "v0.3.77")
    snapshot = await nodes.snapshots.create("v0.3.77")
    async for event in nodes.restore("v0.3.77", snapshot.id): ...

Validation errors are raised when a method is called (before any iteration); every change of
a version's nodes or venv takes a snapshot first and holds the version's lock exclusive
through the guard, which refuses while an instance of the version is live (running or
starting). Front ends call `check_change`/`check_remove` before they ask "are you sure?".
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from comfy_tui.core.node_plan import node_name_from_url, validate_node_name
from comfy_tui.core.versions import sort_newest_first
from comfy_tui.errors import ComfyTuiError, InstallError, NotFoundError
from comfy_tui.events import Event, Finished, LogLine, Progress, Step, forwards
from comfy_tui.paths import DataPaths
from comfy_tui.services import trashbin
from comfy_tui.services.envsnap.capture import SnapshotTaker
from comfy_tui.services.envsnap.restore import put_back, restore
from comfy_tui.services.nodes import repo_jobs
from comfy_tui.services.nodes.checkouts import NodeCheckout, remove_tree, removing_dir
from comfy_tui.services.nodes.deps import INSTALL_SCRIPT, REQUIREMENTS, DepsPlan, apply_deps
from comfy_tui.services.nodes.deps import make_plan as make_deps_plan
from comfy_tui.services.nodes.links import (
    OwnNode,
    VersionNodes,
    custom_nodes_dir,
    make_link,
    read_version_nodes,
    remove_link,
)
from comfy_tui.services.nodes.version_env import load_version, refresh_torch_pins
from comfy_tui.services.version_guard import VersionGuard
from comfy_tui.settings import Settings
from comfy_tui.store import node_records, version_records
from comfy_tui.store.envsnap_records import Snapshot, validate_snapshot_id
from comfy_tui.store.node_packages import record_origins
from comfy_tui.store.node_records import NodeRecord
from comfy_tui.validate import validate_tag

log = logging.getLogger(__name__)

__all__ = ["NodeInfo", "NodesOverview", "NodesService"]


@dataclass(frozen=True)
class NodeInfo:
    """A shared node as the screens and `nodes list` show it."""

    name: str
    url: str
    commit: str
    branch: str  # "" when pinned to a commit (detached)
    enabled_in: tuple[str, ...]
    requirements: bool
    install_script: bool
    added_at: float

    @property
    def pinned(self) -> bool:
        return not self.branch


@dataclass(frozen=True)
class NodesOverview:
    nodes: tuple[NodeInfo, ...]
    own: tuple[OwnNode, ...]  # nodes versions have on their own
    versions: tuple[str, ...]  # installed versions, newest first


class NodesService:
    def __init__(
        self,
        settings: Settings,
        paths: DataPaths,
        *,
        guard: VersionGuard,
        now: Callable[[], float] = time.time,
    ) -> None:
        """`guard`: which versions run, and their locks (every change holds one)."""
        self.settings = settings
        self.paths = paths
        self.guard = guard
        self.now = now
        self.snapshots = SnapshotTaker(settings, paths, now=now)

    # --- reading ---------------------------------------------------------------------
    async def _versions(self) -> list[VersionNodes]:
        records = await asyncio.to_thread(version_records.list_records, self.paths)
        by_tag = {r.tag: r for r in records}
        nodes_dir = self.paths.nodes_dir()
        found = []
        for tag in sort_newest_first(by_tag):
            path = by_tag[tag].path
            found.append(await asyncio.to_thread(read_version_nodes, tag, Path(path), nodes_dir))
        return found

    async def _info(self, record: NodeRecord, versions: list[VersionNodes]) -> NodeInfo:
        checkout = NodeCheckout(self.paths.node_dir(record.name))
        folder = checkout.path
        return NodeInfo(
            name=record.name,
            url=record.url,
            commit=await checkout.head(),
            branch=await checkout.branch() if checkout.exists() else "",
            enabled_in=tuple(v.tag for v in versions if record.name in v.shared),
            requirements=(folder / REQUIREMENTS).is_file(),
            install_script=(folder / INSTALL_SCRIPT).is_file(),
            added_at=record.added_at,
        )

    async def overview(self) -> NodesOverview:
        """Every shared node with the versions that enable it, and the versions' own nodes."""
        records = await asyncio.to_thread(node_records.list_nodes, self.paths)
        versions = await self._versions()
        nodes = tuple([await self._info(r, versions) for r in records])
        own = tuple(o for v in versions for o in v.own)
        return NodesOverview(nodes, own, tuple(v.tag for v in versions))

    async def _record(self, name: str) -> NodeRecord:
        record = await asyncio.to_thread(node_records.load_node, self.paths, name)
        if record is None:
            raise NotFoundError(f"no shared node {name} (comfy-tui nodes list)")
        return record

    async def get(self, name: str) -> NodeInfo:
        record = await self._record(validate_node_name(name))
        return await self._info(record, await self._versions())

    async def enabled_in(self, name: str) -> list[str]:
        """Installed versions whose custom_nodes/ link to the shared node."""
        return [v.tag for v in await self._versions() if name in v.shared]

    # --- shared checkouts --------------------------------------------------------------
    def add(self, url: str) -> AsyncGenerator[Event, None]:
        """Clone a node repository (https URL; from `nodes_mirror` when set) into nodes/<name>."""
        name = node_name_from_url(url)
        return repo_jobs.add_node(self.snapshots, name, url)

    def update(self, name: str, ref: str | None = None) -> AsyncGenerator[Event, None]:
        """Fetch, then fast-forward the node's branch, or check out `ref` (commit, tag, branch)
        pinned. Plan the dependencies again afterwards (`plan`) for the versions using it."""
        name = validate_node_name(name)
        if ref is not None:
            ref = validate_tag(ref)
        return repo_jobs.update_node(self.snapshots, self.guard, name, ref, self.enabled_in)

    async def remove(self, name: str) -> list[str]:
        """Remove a shared node (its checkout goes to the trash); first unlinked (after a
        snapshot) from every version that enables it. Refused while a running instance uses
        it. Returns those versions."""
        name = validate_node_name(name)
        await self._record(name)
        async with repo_jobs.node_lock(self.snapshots, name):
            users = await self.enabled_in(name)
            async with self.guard.changing(users, f"remove {name}"):
                for tag in users:
                    await self._unlink_locked(name, tag, f"before removing {name}")
            record = await asyncio.to_thread(node_records.load_node, self.paths, name)
            await asyncio.to_thread(node_records.delete_node, self.paths, name)
            folder = self.paths.node_dir(name)
            kept = await asyncio.to_thread(
                trashbin.put_node_aside, self.paths, record, name, folder, time.time()
            )
            if kept is not None:
                log.info("node %s put in the trash as %s", name, kept.id)
            await asyncio.to_thread(
                trashbin.prune, self.paths, self.settings.trash_keep_days, time.time()
            )
            if folder.exists():
                gone = removing_dir(self.paths.nodes_dir(), name)
                folder.rename(gone)
                await remove_tree(gone)
        log.info("removed node %s (was enabled in %s)", name, users)
        return users

    # --- per version -------------------------------------------------------------------
    async def plan(
        self,
        name: str,
        tag: str,
        *,
        force: bool = False,
        allow_direct_refs: bool = False,
        allow_builds: bool = False,
    ) -> DepsPlan:
        """What enabling `name` in `tag` would change (a uv dry run; nothing changes and no
        code of the node or its dependencies runs unless `allow_builds`: see `deps`)."""
        name, tag = validate_node_name(name), validate_tag(tag)
        await self._record(name)
        env = await load_version(self.paths, tag)
        checkout = NodeCheckout(self.paths.node_dir(name))
        if not checkout.exists():
            raise InstallError(f"the checkout of {name} is missing: remove and add it again")
        commit = await checkout.head()
        tool = self.snapshots.tool()
        plan = await make_deps_plan(
            tool,
            env,
            name,
            checkout.path,
            commit,
            force=force,
            allow_direct_refs=allow_direct_refs,
            allow_builds=allow_builds,
        )
        linked = name in (await asyncio.to_thread(self._read, tag, env.path)).shared
        return replace(plan, enabled=linked)

    def _read(self, tag: str, path: Path) -> VersionNodes:
        return read_version_nodes(tag, path, self.paths.nodes_dir())

    def enable(
        self, plan: DepsPlan, *, run_install_script: bool = False
    ) -> AsyncGenerator[Event, None]:
        """Apply a plan: snapshot, packages, install.py (only if asked), then the link.

        A blocked plan (an unforced torch change) is refused at once. On failure the venv is
        put back to the snapshot taken first."""
        if plan.blocked:
            raise InstallError(plan.refusal())
        return self._enable(plan, run_install_script)

    @forwards
    async def _enable(self, plan: DepsPlan, run_script: bool) -> AsyncGenerator[Step, None]:
        await self._record(plan.name)
        env = await load_version(self.paths, plan.tag)
        checkout = NodeCheckout(self.paths.node_dir(plan.name))
        async with self.guard.changing(env.tag, f"enable {plan.name} in {env.tag}"):
            if await checkout.head() != plan.commit:
                raise InstallError(f"{plan.name} changed since the plan was made: plan again")
            yield Progress("snapshot", 0.0, detail="saving the current state")
            before = await self.snapshots.capture(env, f"before enabling {plan.name}")
            yield LogLine(f"{env.tag} is saved as snapshot {before.id}", "comfy-tui")
            yield Progress("packages", 0.1, detail=f"{len(plan.changes)} package change(s)")
            try:
                tool = self.snapshots.tool()
                deps = apply_deps(tool, env, plan, checkout.path, run_install_script=run_script)
                yield deps
                if plan.torch_changes:
                    pinned = await refresh_torch_pins(self.paths, env)
                    yield LogLine(f"{env.tag}'s torch family is now pinned to {pinned}", "uv")
                await asyncio.to_thread(make_link, env.path, plan.name, self.paths.nodes_dir())
                await asyncio.to_thread(
                    record_origins, self.paths, env.tag, plan.name, plan.changes, self.now()
                )
            except ComfyTuiError as exc:
                await put_back(self.snapshots, env, before, exc)
                raise InstallError(f"{exc}; {env.tag} was put back as it was") from exc
            except BaseException as exc:
                await put_back(self.snapshots, env, before, exc)
                raise
        yield Progress("packages", 1.0, detail="enabled")
        yield Finished(f"{plan.name} enabled in {env.tag} ({len(plan.changes)} package(s) changed)")

    async def disable(self, name: str, tag: str) -> Snapshot:
        """Remove the version's link (after a snapshot, which is returned). Its packages stay
        installed: restoring that snapshot removes them too."""
        name, tag = validate_node_name(name), validate_tag(tag)
        env = await load_version(self.paths, tag)
        entry = custom_nodes_dir(env.path) / name
        if name not in (await asyncio.to_thread(self._read, tag, env.path)).shared:
            if entry.exists():
                raise InstallError(
                    f"custom_nodes/{name} in {tag} is the version's own node, not a shared one: "
                    "comfy-tui leaves it alone"
                )
            raise NotFoundError(f"{name} is not enabled in {tag}")
        async with self.guard.changing(tag, f"disable {name} in {tag}"):
            return await self._unlink_locked(name, tag, f"before disabling {name}")

    async def _unlink_locked(self, name: str, tag: str, reason: str) -> Snapshot:
        """Snapshot, then remove the link (the caller holds the version through the guard)."""
        env = await load_version(self.paths, tag)
        before = await self.snapshots.capture(env, reason)
        await asyncio.to_thread(remove_link, env.path, name, self.paths.nodes_dir())
        return before

    # --- guards before questions ----------------------------------------------------------
    async def check_change(self, name: str, tags: str | Sequence[str], doing: str) -> None:
        """Refuse (VersionInUseError naming the instance) to `doing` (e.g. "enable X in
        v0.3.77") while an instance of one of `tags` is live; before any question."""
        validate_node_name(name)
        await self.guard.check(tags, doing)

    async def check_remove(self, name: str) -> None:
        """`check_change` for removing a shared node: every version that enables it."""
        name = validate_node_name(name)
        await self.check_change(name, await self.enabled_in(name), f"remove {name}")

    async def check_update(self, name: str) -> None:
        """`check_change` for updating a shared node: every version that enables it."""
        name = validate_node_name(name)
        await self.check_change(name, await self.enabled_in(name), f"update {name}")

    async def check_restore(self, tag: str) -> None:
        """Refuse to restore a snapshot of `tag` while an instance of it is live."""
        tag = validate_tag(tag)
        await self.guard.check(tag, f"restore a snapshot of {tag}")

    # --- snapshots ---------------------------------------------------------------------
    def restore(self, tag: str, snapshot_id: str | None = None) -> AsyncGenerator[Event, None]:
        """Bring `tag` back to a snapshot (the newest when no id); refused while it runs."""
        tag = validate_tag(tag)
        if snapshot_id is not None:
            validate_snapshot_id(snapshot_id)
        return self._restore(tag, snapshot_id)

    @forwards
    async def _restore(self, tag: str, snapshot_id: str | None) -> AsyncGenerator[Step, None]:
        guarded = self.guard.changing(tag, f"restore a snapshot of {tag}")
        yield restore(self.snapshots, tag, snapshot_id, guarded)

"""The two git jobs on shared checkouts: add (clone) and update (fetch, then fast-forward or pin).

Both hold the node's lock (`metadata/locks/node-<name>.lock`, refused at once when another
process holds it). `add` clones into `nodes/.partial-<name>-*`, renames it into place and
writes the record last, so a failure or cancellation leaves nothing. `update` refuses a
checkout with local changes, holds every version that enables the node through the guard
(refused while one of them has a live instance), snapshots them, then fetches from the node's
source (its mirror when `nodes_mirror` is set) and moves the checkout.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from pathlib import Path

from comfy_tui.core.node_plan import clone_source
from comfy_tui.errors import InstallError, NotFoundError
from comfy_tui.events import Event, Finished, LogLine, Progress, Step, forwards
from comfy_tui.services.envsnap.capture import SnapshotTaker
from comfy_tui.services.flock import AsyncFileLock
from comfy_tui.services.nodes.checkouts import (
    NodeCheckout,
    partial_dir,
    remove_stale,
    remove_tree,
)
from comfy_tui.services.nodes.version_env import load_version
from comfy_tui.services.version_guard import VersionGuard
from comfy_tui.store import node_records
from comfy_tui.store.node_records import NodeRecord

log = logging.getLogger(__name__)

__all__ = ["add_node", "node_lock", "update_node"]

EnabledIn = Callable[[str], Awaitable[list[str]]]


def node_lock(taker: SnapshotTaker, name: str) -> AsyncFileLock:
    return AsyncFileLock(
        taker.paths.node_lock(name),
        timeout=0,
        busy=f"{name} is being added, updated or removed right now; try again when that ends",
    )


@forwards
async def add_node(
    taker: SnapshotTaker, name: str, url: str, *, local: tuple[Path, str] | None = None
) -> AsyncGenerator[Step, None]:
    """`local` (a checkout folder, a commit): clone from that folder instead (no network),
    at that commit, with origin then pointed at the node's source (services/adopt_nodes.py)."""
    paths = taker.paths
    source = clone_source(taker.settings.nodes_mirror, url)
    async with node_lock(taker, name):
        if await asyncio.to_thread(node_records.load_node, paths, name):
            raise InstallError(f"{name} is already added (comfy-tui nodes update {name})")
        nodes_dir = paths.nodes_dir()
        for stale in await asyncio.to_thread(remove_stale, nodes_dir):
            yield LogLine(f"removed {stale.name}, left by an earlier run", "comfy-tui")
        final = paths.node_dir(name)
        if final.is_symlink() or final.exists():  # a folder without a record is debris
            await remove_tree(final)
        work = partial_dir(nodes_dir, name)
        done = False
        try:
            yield Progress("clone", 0.0, detail=f"cloning {name}")
            token = None if local else taker.settings.github_token
            origin = str(local[0]) if local else source
            yield NodeCheckout(work).clone(origin, work, token=token)
            if local:
                await NodeCheckout(work).take_over(local[1], source)
            os.rename(work, final)
            checkout = NodeCheckout(final)
            record = NodeRecord(name, url, source, await checkout.branch(), taker.now())
            commit = await checkout.head()
            await asyncio.to_thread(node_records.save_node, paths, record)
            done = True
        finally:
            if not done:
                for leftover in (work, final):
                    if leftover.exists():
                        await remove_tree(leftover)
    on = f" ({record.branch})" if record.branch else ""
    yield Progress("clone", 1.0, detail="added")
    yield Finished(f"added {name} at {commit[:12]}{on}")


async def update_node(
    taker: SnapshotTaker, guard: VersionGuard, name: str, ref: str | None, enabled_in: EnabledIn
) -> AsyncGenerator[Event, None]:
    paths = taker.paths
    record = await asyncio.to_thread(node_records.load_node, paths, name)
    if record is None:
        raise NotFoundError(f"no shared node {name} (comfy-tui nodes list)")
    checkout = NodeCheckout(paths.node_dir(name))
    async with node_lock(taker, name):
        users = await enabled_in(name)
        async with guard.changing(users, f"update {name}"):
            if not checkout.exists():
                raise InstallError(f"the checkout of {name} is missing: remove and add it again")
            if await checkout.is_dirty():
                raise InstallError(
                    f"{name} has local changes to its files ({checkout.path}): commit or "
                    "discard them first"
                )
            old = await checkout.head()
            yield Progress("snapshot", 0.0, detail="saving the versions that use it")
            for tag in users:
                env = await load_version(paths, tag)
                before = await taker.capture(env, f"before updating {name}")
                yield LogLine(f"{tag} is saved as snapshot {before.id}", "comfy-tui")
            source = clone_source(taker.settings.nodes_mirror, record.url)
            yield Progress("fetch", 0.1, detail=f"fetching {name}")
            fetch = checkout.fetch(source, token=taker.settings.github_token)
            async with aclosing(fetch) as stream:
                async for event in stream:
                    if isinstance(event, Progress):
                        event = Progress("fetch", 0.1 + 0.8 * event.fraction, detail=event.detail)
                    yield event
            if ref:
                commit = await checkout.resolve(ref)
                if not commit:
                    raise NotFoundError(f"{name} has no commit, tag or branch {ref}")
                await checkout.checkout_commit(commit)
            else:
                branch = record.branch or await checkout.remote_default_branch()
                if not branch:
                    raise InstallError(f"{name} follows no branch: give a commit to check out")
                await checkout.fast_forward(branch)
            new = await checkout.head()
    yield Progress("fetch", 1.0, detail="updated")
    if new == old:
        yield Finished(f"{name} is already at {new[:12]}")
    else:
        pinned = f" (pinned to {ref})" if ref else ""
        yield Finished(f"{name} updated {old[:12]} → {new[:12]}{pinned}")

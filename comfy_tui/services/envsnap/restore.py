"""Restoring a snapshot: every node back to its commit and link, the venv to the exact list.

Staged so that a failed restore leaves the previous state in place:

1. check everything first, changing nothing: the shared checkouts still exist and hold their
   commits (fetched when missing) without local changes in the way, and ``uv pip sync
   --dry-run`` can resolve the package list with the configured sources;
2. snapshot the current state ("before restoring <id>");
3. nodes (checkouts, then links), then ``uv pip sync``, then the torch pins;
4. on any failure or cancellation, apply the step-2 snapshot the same way and say so; when
   that fails too, the error names the snapshot that holds the previous state.

A journal (services/envsnap/journal.py) records the phase, so a restore killed midway is
settled by the next command (recover.py): rolled back to the step-2 snapshot, or declared
finished.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncGenerator
from contextlib import AbstractAsyncContextManager
from pathlib import Path

from comfy_tui.core.node_plan import clone_source, diff_packages
from comfy_tui.errors import ComfyTuiError, InstallError
from comfy_tui.events import Finished, LogLine, Progress, Step, each, forwards
from comfy_tui.services.envsnap import journal
from comfy_tui.services.envsnap.capture import SnapshotTaker
from comfy_tui.services.faults import checkpoint
from comfy_tui.services.nodes.checkouts import NodeCheckout
from comfy_tui.services.nodes.links import (
    custom_nodes_dir,
    is_link_to,
    make_link,
    read_version_nodes,
    remove_link,
)
from comfy_tui.services.nodes.version_env import VersionEnv, load_version, refresh_torch_pins
from comfy_tui.store import node_records
from comfy_tui.store.envsnap_records import Snapshot

log = logging.getLogger(__name__)

__all__ = ["apply_nodes", "apply_snapshot", "put_back", "restore"]


async def _preflight_nodes(taker: SnapshotTaker, env: VersionEnv, target: Snapshot) -> list[str]:
    """Refuse (InstallError) what restoring the nodes could not do; notes for the user."""
    paths, notes = taker.paths, []
    nodes_dir = paths.nodes_dir()
    for node in target.nodes:
        if node.kind == "shared":
            record = await asyncio.to_thread(node_records.load_node, paths, node.name)
            checkout = NodeCheckout(nodes_dir / node.name)
            if record is None or not checkout.exists():
                add = f"comfy-tui nodes add {node.url}" if node.url else "comfy-tui nodes add URL"
                raise InstallError(
                    f"snapshot {target.id} needs the shared node {node.name}, which was removed "
                    f"since: add it again ({add}) and retry"
                )
            entry = custom_nodes_dir(env.path) / node.name
            if (entry.exists() or entry.is_symlink()) and not is_link_to(entry, nodes_dir):
                raise InstallError(
                    f"{env.tag} now has its own custom_nodes/{node.name}, where snapshot "
                    f"{target.id} links the shared node: rename or remove it first"
                )
            source = clone_source(taker.settings.nodes_mirror, record.url)
            await _need_commit(checkout, node.name, node.commit, source)
        elif node.commit:
            checkout = NodeCheckout(custom_nodes_dir(env.path) / node.name)
            if not checkout.exists():
                notes.append(f"{node.name} (the version's own node) is gone; left as it is")
                continue
            await _need_commit(checkout, node.name, node.commit, None)
    return notes


async def _need_commit(checkout: NodeCheckout, name: str, commit: str, source: str | None) -> None:
    if not commit or await checkout.head() == commit:
        return
    if not await checkout.resolve(commit) and source is not None:
        await each(checkout.fetch(source), lambda event: log.debug("%s", event))
    if not await checkout.resolve(commit):
        raise InstallError(f"{name} does not have commit {commit[:12]} any more; nothing changed")
    if await checkout.is_dirty():
        raise InstallError(
            f"{name} has local changes to its files ({checkout.path}): commit or discard "
            "them first; nothing changed"
        )


async def apply_nodes(taker: SnapshotTaker, env: VersionEnv, snapshot: Snapshot) -> None:
    """Every node of `snapshot` at its commit and linked; other shared links removed."""
    nodes_dir = taker.paths.nodes_dir()
    for node in snapshot.nodes:
        folder = nodes_dir if node.kind == "shared" else custom_nodes_dir(env.path)
        checkout = NodeCheckout(folder / node.name)
        if node.commit and checkout.exists() and await checkout.head() != node.commit:
            await checkout.checkout_commit(node.commit)
        if node.kind == "shared":
            await asyncio.to_thread(make_link, env.path, node.name, nodes_dir)
    now = await asyncio.to_thread(read_version_nodes, env.tag, env.path, nodes_dir)
    for name in set(now.shared) - set(snapshot.shared()):
        await asyncio.to_thread(remove_link, env.path, name, nodes_dir)


_SYNC_PREFIX = ".sync-"


def _packages_file(taker: SnapshotTaker, snapshot: Snapshot) -> Path:
    """The snapshot's package list as a file for uv (removed after use; the version's lock
    is held, so any other such file is a crashed restore's leftover and is removed too)."""
    folder = taker.paths.snapshots_dir(snapshot.tag)
    for stale in folder.glob(f"{_SYNC_PREFIX}*.txt"):
        stale.unlink(missing_ok=True)
    path = folder / f"{_SYNC_PREFIX}{secrets.token_hex(4)}.txt"
    path.write_text("".join(f"{line}\n" for line in snapshot.packages), encoding="utf-8")
    return path


@forwards
async def apply_snapshot(
    taker: SnapshotTaker, env: VersionEnv, snapshot: Snapshot
) -> AsyncGenerator[Step, None]:
    """Nodes, then the venv, then the pins (no checks: the caller did them)."""
    await apply_nodes(taker, env, snapshot)
    checkpoint("restore.nodes")
    packages = await asyncio.to_thread(_packages_file, taker, snapshot)
    try:
        sync = taker.tool().sync(env.python, packages, env.torch_index, "restoring the packages")
        yield sync
    finally:
        packages.unlink(missing_ok=True)
    checkpoint("restore.synced")
    pinned = await refresh_torch_pins(taker.paths, env)
    if pinned:
        yield LogLine(f"the torch family of {env.tag} is now pinned to {pinned}", "comfy-tui")


async def put_back(
    taker: SnapshotTaker, env: VersionEnv, before: Snapshot, error: BaseException
) -> None:
    """Apply `before` after `error`; raises InstallError naming `before` if that fails too."""
    log.warning("putting %s back to snapshot %s after: %r", env.tag, before.id, error)
    try:
        await each(
            apply_snapshot(taker, env, before), lambda event: log.info("put back: %s", event)
        )
    except (Exception, asyncio.CancelledError) as again:
        reason = str(again) if isinstance(again, ComfyTuiError) else repr(again)
        raise InstallError(
            f"{error}; putting back the previous state failed too ({reason}): it is saved as "
            f"snapshot {before.id} (comfy-tui snapshot restore {env.tag} {before.id})"
        ) from again


@forwards
async def restore(
    taker: SnapshotTaker,
    tag: str,
    snapshot_id: str | None,
    guarded: AbstractAsyncContextManager[None],
) -> AsyncGenerator[Step, None]:
    """The restore job (see the module docstring). `guarded` holds the version's lock
    exclusive and refuses while an instance of it is live (`VersionGuard.changing`)."""
    env = await load_version(taker.paths, tag)
    target = await taker.get(env.tag, snapshot_id)
    async with guarded:
        await asyncio.to_thread(journal.begin, taker.paths, env.tag, target.id)
        try:
            yield _restore_locked(taker, env, target)
        finally:  # however it ended, it ended here: only a killed restore leaves a journal
            await asyncio.to_thread(journal.end, taker.paths, env.tag)


@forwards
async def _restore_locked(
    taker: SnapshotTaker, env: VersionEnv, target: Snapshot
) -> AsyncGenerator[Step, None]:
    yield Progress("check", 0.0, detail=f"checking snapshot {target.id}")
    for note in await _preflight_nodes(taker, env, target):
        yield LogLine(note, "comfy-tui")
    packages = await asyncio.to_thread(_packages_file, taker, target)
    try:
        dry = await taker.tool().dry_run_sync(env.python, packages, env.torch_index)
    finally:
        packages.unlink(missing_ok=True)
    if not dry.ok:
        raise InstallError(
            f"the packages of snapshot {target.id} cannot be installed from the configured "
            f"sources ({dry.reason}); nothing changed"
        )
    yield Progress("snapshot", 0.2, detail="saving the current state")
    before = await taker.capture(env, f"before restoring {target.id}")
    yield LogLine(f"the current state is saved as snapshot {before.id}", "comfy-tui")
    checkpoint("restore.captured")
    await asyncio.to_thread(journal.set_phase, taker.paths, env.tag, "applying", before=before.id)
    yield Progress("apply", 0.3, detail=f"restoring {target.id}")
    try:
        yield apply_snapshot(taker, env, target)
    except ComfyTuiError as exc:
        await put_back(taker, env, before, exc)
        raise InstallError(
            f"restoring snapshot {target.id} failed ({exc}); the previous state was put back"
        ) from exc
    except BaseException as exc:  # cancelled, or a surprise: put back, then pass it on
        await put_back(taker, env, before, exc)
        raise
    await asyncio.to_thread(journal.set_phase, taker.paths, env.tag, "applied")
    checkpoint("restore.applied")
    changed = diff_packages(before.packages, target.packages)
    yield Progress("apply", 1.0, detail="restored")
    yield Finished(
        f"{env.tag} restored to snapshot {target.id} ({len(changed)} package(s) changed, "
        f"{len(target.nodes)} node(s)); the state before is snapshot {before.id}"
    )

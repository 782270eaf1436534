"""An adopted version's own custom nodes: listed with origin and commit, shared on request.

`list_own_nodes` reads what the version's `custom_nodes/` holds on its own (not links to
shared checkouts), with each git checkout's `origin` URL and commit. `share_node` makes one of
them a shared node (`nodes/<name>`): a local clone of the version's checkout (no network, git
hardlinks its objects), at the same commit, its origin set to the node's URL so `nodes update`
fetches from there. The version's own folder is left as it was; the shared copy can then be
enabled in other versions (`comfy-tui nodes enable NAME TAG`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path

from comfy_tui.core.node_plan import node_name_from_url, validate_node_name
from comfy_tui.errors import NotFoundError, ValidationError
from comfy_tui.events import Event, Finished, LogLine, Progress
from comfy_tui.paths import DataPaths
from comfy_tui.services.envsnap.capture import SnapshotTaker
from comfy_tui.services.nodes.links import read_version_nodes
from comfy_tui.services.nodes.repo_jobs import add_node
from comfy_tui.services.proc import run_capture
from comfy_tui.store import node_records, version_records
from comfy_tui.validate import validate_tag

__all__ = ["OwnNodeInfo", "list_own_nodes", "share_node"]


@dataclass(frozen=True)
class OwnNodeInfo:
    """A node in a version's own `custom_nodes/`."""

    name: str
    kind: str  # "git", "folder" or "file"
    enabled: bool
    origin: str  # its git remote `origin`, "" when none
    commit: str  # HEAD, "" when not a git checkout
    shared: bool  # a shared node of this name exists already

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "kind": self.kind,
            "enabled": self.enabled,
            "origin": self.origin,
            "commit": self.commit,
            "shared": self.shared,
        }


async def _version_path(paths: DataPaths, tag: str) -> Path:
    record = await asyncio.to_thread(version_records.load_record, paths, validate_tag(tag))
    if record is None:
        raise NotFoundError(f"{tag} is not installed (comfy-tui versions lists what is)")
    return Path(record.path)


async def _git(folder: Path, *args: str) -> str:
    """stdout of one git command in `folder`; "" when it fails."""
    run = await run_capture(["git", "-C", str(folder), *args], timeout=60)
    return run.stdout.strip() if run.returncode == 0 else ""


async def list_own_nodes(paths: DataPaths, tag: str) -> list[OwnNodeInfo]:
    """The version's own nodes with their origin and commit (git asked once per checkout)."""
    folder = await _version_path(paths, tag)
    nodes_dir = paths.nodes_dir()
    found = await asyncio.to_thread(read_version_nodes, tag, folder, nodes_dir)
    result = []
    for own in found.own:
        origin = commit = ""
        if own.kind == "git":
            node = folder / "custom_nodes" / own.name
            origin = await _git(node, "config", "--get", "remote.origin.url")
            commit = await _git(node, "rev-parse", "HEAD")
        shared = await asyncio.to_thread(node_records.load_node, paths, own.name)
        result.append(
            OwnNodeInfo(own.name, own.kind, own.enabled, origin, commit, shared is not None)
        )
    return result


async def share_node(taker: SnapshotTaker, tag: str, name: str) -> AsyncGenerator[Event, None]:
    """Make the version's own checkout `name` a shared node at the same commit.

    Raises NotFoundError (no such version or node), ValidationError (not a git checkout, no
    https origin, the name is a shared node already) or LockBusyError; a failure leaves
    nothing in `nodes/`.
    """
    paths = taker.paths
    name = validate_node_name(name.removesuffix(".disabled"))
    nodes = {n.name.removesuffix(".disabled"): n for n in await list_own_nodes(paths, tag)}
    own = nodes.get(name)
    if own is None:
        raise NotFoundError(f"{tag} has no node {name} of its own in custom_nodes/")
    if own.kind != "git" or not own.commit:
        raise ValidationError(f"{name} in {tag} is not a git checkout: it cannot be shared")
    try:
        node_name_from_url(own.origin)
    except ValidationError:
        raise ValidationError(
            f"{name} in {tag} has no https origin ({own.origin or 'none'}): add it with "
            "comfy-tui nodes add URL instead"
        ) from None
    source_dir = (await _version_path(paths, tag)) / "custom_nodes" / own.name
    if await asyncio.to_thread(node_records.load_node, paths, name):
        raise ValidationError(f"{name} is a shared node already (comfy-tui nodes list)")
    add = add_node(taker, name, own.origin, local=(source_dir, own.commit))
    async with aclosing(add) as stream:
        async for event in stream:
            if not isinstance(event, Finished):
                yield event
    if await _git(source_dir, "--no-optional-locks", "status", "--porcelain"):  # no writes
        yield LogLine(f"{name} in {tag} has uncommitted changes: they were not shared", "git")
    yield Progress("clone", 1.0, detail="shared")
    yield Finished(f"shared {name} at {own.commit[:12]} (from {tag}; its own copy is untouched)")

"""Which node classes of a workflow an installed version lacks, and who provides them.

What a version provides is read from its checkout, never imported: ComfyUI's ``nodes.py``,
``comfy_extras/`` and ``comfy_api_nodes/``, and every custom node enabled in it
(``custom_nodes/<name>``, links followed). A class nobody registers is missing; the node map
(`node_map.load_node_map`) says which repository has it.

When an instance of the version runs, its ``/object_info`` is asked instead: that is what
ComfyUI really loaded (a node whose import failed is missing there, though its checkout is
enabled).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from comfy_tui.core.node_classes import missing_classes, registered_classes
from comfy_tui.core.workflow import Workflow
from comfy_tui.paths import DataPaths
from comfy_tui.services.instances.health import base_url
from comfy_tui.settings import Settings
from comfy_tui.store.instance_records import list_instances

log = logging.getLogger(__name__)

_CORE = ("nodes.py", "comfy_extras", "comfy_api_nodes")
_MAX_FILE = 4 * 1024 * 1024
_MAX_DEPTH = 4
_OBJECT_INFO_MAX = 256 * 1024 * 1024
_OBJECT_INFO_TIMEOUT = aiohttp.ClientTimeout(total=60, sock_connect=5)


@dataclass(frozen=True)
class MissingNode:
    class_type: str
    repo: str | None


def _python_files(top: Path, depth: int = 0) -> list[Path]:
    if top.is_file():
        return [top] if top.suffix == ".py" else []
    if depth > _MAX_DEPTH or not top.is_dir():
        return []
    out: list[Path] = []
    try:
        entries = sorted(os.scandir(top), key=lambda e: e.name)
    except OSError:
        return out
    for entry in entries:
        if entry.name.startswith((".", "__pycache__")) or entry.name.endswith(".disabled"):
            continue
        out.extend(_python_files(Path(entry.path), depth + 1))
    return out


def provided_classes(version_dir: Path) -> set[str]:
    """Every node class the version's core and its enabled custom nodes register (blocking)."""
    files = [f for name in _CORE for f in _python_files(version_dir / name)]
    files += _python_files(version_dir / "custom_nodes")
    found: set[str] = set()
    for path in files:
        try:
            if path.stat().st_size > _MAX_FILE:
                continue
            found |= registered_classes(path.read_text(encoding="utf-8", errors="replace"))
        except OSError:
            continue
    return found


async def object_info_classes(url: str) -> set[str] | None:
    """The node classes a running ComfyUI at `url` reports (``GET /object_info``), or None
    when it does not answer with a JSON object (loopback: no proxies)."""
    try:
        async with (
            aiohttp.ClientSession(timeout=_OBJECT_INFO_TIMEOUT, trust_env=False) as session,
            session.get(f"{url}/object_info") as response,
        ):
            if response.status != 200:
                return None
            body = await response.content.read(_OBJECT_INFO_MAX + 1)
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        log.info("no /object_info from %s (%s)", url, exc)
        return None
    try:
        doc = json.loads(body) if len(body) <= _OBJECT_INFO_MAX else None
    except ValueError:
        return None
    return {k for k in doc if isinstance(k, str)} if isinstance(doc, dict) else None


async def instance_classes(paths: DataPaths, tag: str) -> tuple[str, set[str]] | None:
    """(instance id, node classes) from the first running instance of `tag` that answers
    ``/object_info``; None when none does."""
    records = await asyncio.to_thread(list_instances, paths)
    for record in records:
        if record.version != tag or record.state != "running":
            continue
        classes = await object_info_classes(base_url(record))
        if classes is not None:
            return record.id, classes
    return None


@dataclass(frozen=True)
class NodesCheck:
    """A workflow's node classes checked against one version: what is missing, and whether
    a running instance (``source`` = its id) or the checkouts (``source`` = None) said so."""

    tag: str
    missing: list[MissingNode]
    instance: str | None


async def check_nodes(
    flow: Workflow, paths: DataPaths, tag: str, version_dir: Path, node_map: dict[str, str]
) -> NodesCheck:
    """The workflow's classes `tag` lacks: from a running instance's ``/object_info`` when
    one answers, else from what its checkouts register."""
    running = await instance_classes(paths, tag)
    if running is not None:
        instance, provided = running
    else:
        instance, provided = None, await asyncio.to_thread(provided_classes, version_dir)
    missing = missing_classes(flow.node_classes(), provided)
    return NodesCheck(tag, [MissingNode(c, node_map.get(c)) for c in missing], instance)


async def nodes_needed(
    settings: Settings, paths: DataPaths, workflow: Path, tag: str | None
) -> NodesCheck | None:
    """`models needs FILE [--version TAG]`'s node check, for the CLI and the TUI: the file's
    node classes checked against `tag`, else the default version (None when there is none);
    ValidationError when `tag` is not installed."""
    from comfy_tui.errors import ValidationError
    from comfy_tui.services.library.needs import read_flow
    from comfy_tui.services.node_map import load_node_map
    from comfy_tui.store.version_records import get_default, load_record

    explicit = tag is not None
    tag = tag or await asyncio.to_thread(get_default, paths)
    record = await asyncio.to_thread(load_record, paths, tag) if tag else None
    if record is None:
        if explicit:
            raise ValidationError(f"version {tag} is not installed (see 'comfy-tui versions')")
        return None
    flow = await read_flow(workflow)
    node_map = await load_node_map(settings.node_map_url, paths.cache_dir())
    return await check_nodes(flow, paths, record.tag, Path(record.path), node_map)

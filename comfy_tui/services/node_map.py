"""The node map (class → repository), fetched from `node_map_url` and cached with its ETag.

``cache/extension-node-map.json`` keeps the last document and its ETag; a refresh sends
``If-None-Match`` and a 304 keeps the copy. Offline, the cached copy is used; with neither, the
map is empty (missing nodes are then listed without a repository). Requests go through the
configured proxies and CA bundle (`services.net`).
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import aiohttp

from comfy_tui.core.node_classes import parse_node_map
from comfy_tui.errors import MetadataError
from comfy_tui.services.net import Network
from comfy_tui.store.jsonfile import read_json, write_json

log = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=60, sock_connect=15)
MAX_BYTES = 64 * 1024 * 1024


def cache_file(cache_dir: Path) -> Path:
    return cache_dir / "extension-node-map.json"


async def load_node_map(
    url: str, cache_dir: Path, network: Network | None = None
) -> dict[str, str]:
    """Class name → repository URL; fetched (conditionally) or from the cache."""
    path = cache_file(cache_dir)
    cached = await asyncio.to_thread(_read_cache, path)
    etag = cached.get("etag") if cached else None
    network = network or Network.from_env()
    headers = {"Accept": "application/json"}
    if isinstance(etag, str):
        headers["If-None-Match"] = etag
    try:
        async with network.session(timeout=TIMEOUT) as session:
            options = network.request_options(url, headers)
            async with session.get(url, **options) as response:
                if response.status == 304 and cached:
                    return parse_node_map(cached.get("map"))
                if response.status != 200:
                    raise aiohttp.ClientResponseError(
                        response.request_info, (), status=response.status
                    )
                body = await response.content.read(MAX_BYTES + 1)
                doc = json.loads(body) if len(body) <= MAX_BYTES else None
                fresh_etag = response.headers.get("ETag")
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        log.info("node map %s not fetched (%s); using the cached copy", url, exc)
        return parse_node_map(cached.get("map")) if cached else {}
    if isinstance(doc, dict):
        await asyncio.to_thread(write_json, path, {"etag": fresh_etag, "url": url, "map": doc})
        return parse_node_map(doc)
    return parse_node_map(cached.get("map")) if cached else {}


def _read_cache(path: Path) -> dict[str, Any] | None:
    try:
        doc = read_json(path)
    except (FileNotFoundError, MetadataError, OSError):  # a damaged cache is only a cache
        return None
    return doc if isinstance(doc, dict) else None

"""Is this ComfyUI ours and answering? `GET /system_stats` (with its argv) and `GET /queue`.

A server counts as ours only when `system.argv` carries our `--port` and our instance's own
folder: another server on the same port answers 200 too, and must never be taken for ours.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from comfy_tui.services.instances.command import port_in_argv
from comfy_tui.services.instances.ports import probe_host
from comfy_tui.store.instance_records import InstanceRecord

if TYPE_CHECKING:  # aiohttp is imported when a probe runs, not by `ps` with nothing live
    import aiohttp

PROBE_TIMEOUT_S = 2.0
MAX_BODY = 1024 * 1024


@dataclass(frozen=True)
class Probe:
    """One health check. `ours` is False when something else answers on the port."""

    answered: bool
    ours: bool = False
    queue: int | None = None
    detail: str = ""

    @property
    def healthy(self) -> bool:
        return self.answered and self.ours


def base_url(record: InstanceRecord) -> str:
    host = probe_host(record.listen)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{record.port}"


def argv_is_ours(argv: Sequence[str], record: InstanceRecord) -> bool:
    """Does a server's reported argv belong to this record's launch?"""
    if port_in_argv(argv) != record.port:
        return False
    own = [a for a in record.argv[1:] if f"/{record.id}" in a]  # our database / temp folder
    return all(a in argv for a in own)


async def get_json(session: aiohttp.ClientSession, url: str) -> Any:
    async with session.get(url, allow_redirects=False) as resp:
        if resp.status != 200:
            raise ValueError(f"HTTP {resp.status}")
        body = await resp.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            raise ValueError("answer too large")
        return json.loads(body)


async def probe(
    session: aiohttp.ClientSession, record: InstanceRecord, *, with_queue: bool = True
) -> Probe:
    """Ask the instance's port who it is and, if it is ours, how long its queue is."""
    import aiohttp

    url = base_url(record)
    try:
        stats = await get_json(session, f"{url}/system_stats")
    except (TimeoutError, aiohttp.ClientError, ValueError, OSError) as exc:
        return Probe(answered=False, detail=str(exc) or type(exc).__name__)
    system = stats.get("system") if isinstance(stats, dict) else None
    argv = system.get("argv") if isinstance(system, dict) else None
    if not isinstance(argv, list) or not argv_is_ours([str(a) for a in argv], record):
        return Probe(answered=True, ours=False, detail="another server answers on this port")
    queue: int | None = None
    if with_queue:
        try:
            doc = await get_json(session, f"{url}/queue")
            queue = len(doc.get("queue_running", [])) + len(doc.get("queue_pending", []))
        except (TimeoutError, aiohttp.ClientError, ValueError, OSError, AttributeError):
            queue = None
    return Probe(answered=True, ours=True, queue=queue)


def new_session(timeout_s: float = PROBE_TIMEOUT_S) -> aiohttp.ClientSession:
    """A session for loopback probes: short timeouts, no proxies from the environment."""
    import aiohttp

    timeout = aiohttp.ClientTimeout(total=timeout_s)
    return aiohttp.ClientSession(timeout=timeout, trust_env=False)

"""Where a new version's torch comes from, and which build the environment really got.

`choose_torch_source` follows one rule: the `torch_index_url` setting (or ``install
--torch-index``) wins; ``sources`` there means the configured package sources; an air-gapped
wheelhouse (`find_links` alone) is used as it is; otherwise the backend's PyTorch index
(`pytorch_index` + ``/cu130``), probed once with a short timeout and no retries. When that
index cannot be reached, a ``cpu`` install takes torch from the configured package sources and
says so; any other build fails at once with one line naming the setting to change.

`probe_torch_build` asks the new environment's Python what torch it holds.
"""

from __future__ import annotations

import asyncio
import json
import logging
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from comfy_tui.core.install_plan import Sources
from comfy_tui.core.torch_build import PROBE_SCRIPT, TorchBuild
from comfy_tui.core.units import format_duration
from comfy_tui.errors import NetworkError, ProcessError
from comfy_tui.services.proc import run_capture

log = logging.getLogger(__name__)

__all__ = [
    "PROBE_TIMEOUT_S",
    "TorchSource",
    "choose_torch_source",
    "probe_index",
    "probe_torch_build",
]

PROBE_TIMEOUT_S = 4.0
SOURCES = "sources"

Probe = Callable[[str], Awaitable[str]]
"""`probe(url)`: "" when the index answers, else why not (one short phrase)."""


@dataclass(frozen=True)
class TorchSource:
    """`url` None: the configured package sources. `note`: one line for the install log."""

    url: str | None
    note: str


def _shown(url: str) -> str:
    """The URL without user:password."""
    parts = urllib.parse.urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        parts = parts._replace(netloc=host + (f":{parts.port}" if parts.port else ""))
    return urllib.parse.urlunsplit(parts)


async def probe_index(url: str, timeout: float = PROBE_TIMEOUT_S) -> str:
    """One GET of the index page, no retries: "" when it answers below 400, else why not."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file":
        path = Path(urllib.parse.unquote(parts.path))
        return "" if await asyncio.to_thread(path.exists) else "no such folder"
    try:
        client_timeout = aiohttp.ClientTimeout(total=timeout)
        async with (
            aiohttp.ClientSession(timeout=client_timeout, trust_env=True) as session,
            session.get(url.rstrip("/") + "/", allow_redirects=True) as response,
        ):
            if response.status < 400:
                return ""
            return f"HTTP {response.status}"
    except TimeoutError:
        return f"no answer within {format_duration(timeout, precision=1)}"
    except aiohttp.ClientError as exc:
        reason = str(exc).split(" [", 1)[-1].rstrip("]") if "[" in str(exc) else str(exc)
        return reason or type(exc).__name__


async def choose_torch_source(
    backend: str,
    sources: Sources,
    *,
    override: str | None,
    pytorch_index: str,
    probe: Probe = probe_index,
) -> TorchSource:
    """The source of the torch family for `backend` (not "none"); NetworkError when none works."""
    if override == SOURCES:
        return TorchSource(None, "torch from the configured package sources (torch_index_url)")
    if override:
        return TorchSource(override, f"torch from {_shown(override)} (torch_index_url)")
    if sources.air_gapped:
        return TorchSource(None, "torch from the configured wheelhouse (find_links)")
    url = f"{pytorch_index.rstrip('/')}/{backend}"
    why = await probe(url)
    if not why:
        return TorchSource(url, f"torch from PyTorch's index {_shown(url)}")
    if backend == "cpu":
        return TorchSource(
            None,
            f"PyTorch's index {_shown(url)} is not reachable ({why}); torch comes from the "
            "configured package sources instead (set torch_index_url to choose)",
        )
    raise NetworkError(
        f"PyTorch's index {_shown(url)} is not reachable ({why}): set torch_index_url "
        "(or install --torch-index URL) to a mirror of it, or --torch-index sources to take "
        "torch from the configured package sources"
    )


async def probe_torch_build(python: Path, env: Mapping[str, str]) -> TorchBuild:
    """Ask `python` which torch it imports (a CUDA, ROCm, MPS or CPU build)."""
    try:
        run = await run_capture([str(python), "-c", PROBE_SCRIPT], env=env, timeout=300)
    except ProcessError as exc:
        return TorchBuild(error=str(exc))
    for line in reversed(run.stdout.splitlines()):
        if line.startswith("{"):
            try:
                data = json.loads(line)
            except ValueError:
                break
            if isinstance(data, dict):
                return TorchBuild.from_json(data)
    tail = (run.stderr or run.stdout).strip().splitlines()[-1:] or [f"exit {run.returncode}"]
    return TorchBuild(error=tail[0])

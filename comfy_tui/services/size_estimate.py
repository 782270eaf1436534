"""Size before install: what installing a release would download and take on disk.

A release's dependency set is its `requirements.txt` (read from the shared git mirror, so only
for tags the mirror has) with the torch build, Python and torch source an install would use
(`InstallTarget`), keyed like the installer keys it (`disk_usage.deps_key`). For a key:

1. what an earlier install of the set added to the disk (`install_sizes.json`);
2. else an earlier resolution of the set (`store/size_estimates.py`);
3. else, when asked to `resolve`, ``uv pip compile --format pylock.toml`` against the
   configured package sources and the torch source (the index's metadata only: no wheel is
   downloaded) and the sum of its wheel sizes (`core/size_estimate.py`), stored for next time.

Git and uv run as subprocesses, files in threads: nothing blocks the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from comfy_tui.core import install_plan as plan
from comfy_tui.core.size_estimate import SizeEstimate, from_pylock
from comfy_tui.errors import ComfyTuiError
from comfy_tui.paths import DataPaths
from comfy_tui.services.childenv import child_environ
from comfy_tui.services.disk_usage import deps_key, known_growth
from comfy_tui.services.envs import child_env, find_uv
from comfy_tui.services.proc import run_capture
from comfy_tui.services.torch_source import Probe, choose_torch_source, probe_index
from comfy_tui.settings import Settings
from comfy_tui.store.size_estimates import load_estimate, save_estimate

log = logging.getLogger(__name__)

__all__ = ["InstallTarget", "SizeEstimator", "known_estimate", "requirements_of"]

RESOLVE_TIMEOUT_S = 180.0


@dataclass(frozen=True)
class InstallTarget:
    """What an install would use besides the tag: these make the dependency set's key."""

    backend: str  # "cpu", "cu128", "none", ...
    python: str
    torch_index: str | None  # a URL, "sources", or None (PyTorch's index for the build)

    def key(self, requirements: str) -> str:
        return deps_key(requirements, self.backend, self.python, self.torch_index)


def requirements_of(mirror: Path, tags: Iterable[str]) -> dict[str, str]:
    """`requirements.txt` of each tag the bare `mirror` holds (one `git cat-file --batch`).
    Blocking: call in a thread."""
    wanted = list(tags)
    if not wanted or not (mirror / "HEAD").exists():
        return {}
    query = "".join(f"{tag}:requirements.txt\n" for tag in wanted).encode()
    try:
        done = subprocess.run(
            ["git", "--git-dir", str(mirror), "cat-file", "--batch"],
            input=query,
            capture_output=True,
            timeout=60,
            env=child_environ(),
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("cannot read requirements from %s: %s", mirror, exc)
        return {}
    found, data, pos = {}, done.stdout, 0
    for tag in wanted:
        end = data.find(b"\n", pos)
        if end < 0:
            break
        header = data[pos:end].split()
        pos = end + 1
        if len(header) == 3 and header[1] == b"blob":
            size = int(header[2])
            found[tag] = data[pos : pos + size].decode("utf-8", "replace")
            pos += size + 1
    return found


def known_estimate(paths: DataPaths, key: str) -> SizeEstimate | None:
    """What an earlier install of set `key` took, else its stored resolution. Blocking."""
    stored = load_estimate(paths, key)
    grown = known_growth(paths, key)
    if grown is not None:
        download = stored.download_bytes if stored else None
        return SizeEstimate(download, grown, "an earlier install of the same packages")
    return stored


def _local_size(path: str) -> int | None:
    try:
        return os.stat(path).st_size
    except OSError:
        return None


class SizeEstimator:
    """Estimates for release tags; `uv_bin` and `probe` are injectable for tests."""

    def __init__(
        self,
        settings: Settings,
        paths: DataPaths,
        *,
        uv_bin: Callable[[], str | None] = find_uv,
        probe: Probe = probe_index,
    ) -> None:
        self.settings = settings
        self.paths = paths
        self.uv_bin = uv_bin
        self.probe = probe
        self._index: dict[InstallTarget, list[str]] = {}  # the torch source, probed once

    async def for_tags(
        self,
        tags: Iterable[str],
        target: InstallTarget,
        *,
        resolve: bool = False,
        limit: int | None = None,
    ) -> dict[str, SizeEstimate]:
        """The estimate of every tag whose set is known (or, with `resolve`, resolvable: at
        most `limit` new resolutions, in the order of `tags`). A set that cannot be resolved
        (no uv, an index that is down) is left out."""
        texts = await asyncio.to_thread(requirements_of, self.paths.comfyui_mirror(), tags)
        keys = {tag: target.key(text) for tag, text in texts.items()}
        by_key: dict[str, SizeEstimate | None] = {}
        resolved = 0
        for tag, key in keys.items():
            if key not in by_key:
                by_key[key] = await asyncio.to_thread(known_estimate, self.paths, key)
                if by_key[key] is None and resolve and (limit is None or resolved < limit):
                    resolved += 1
                    by_key[key] = await self.resolve(texts[tag], target)
        return {tag: est for tag, key in keys.items() if (est := by_key.get(key)) is not None}

    async def resolve(self, requirements: str, target: InstallTarget) -> SizeEstimate | None:
        """Resolve the set with uv (metadata only) and store its estimate; None when it
        cannot be resolved here (the reason is logged)."""
        uv = self.uv_bin()
        if uv is None:
            log.info("no size estimate: uv was not found")
            return None
        try:
            estimate = await self._compile(uv, requirements, target)
        except (ComfyTuiError, OSError, ValueError) as exc:
            log.warning("no size estimate: %s", exc)
            return None
        await asyncio.to_thread(save_estimate, self.paths, target.key(requirements), estimate)
        return estimate

    async def _index_args(self, sources: plan.Sources, target: InstallTarget) -> list[str]:
        if target not in self._index:
            self._index[target] = await self._choose_index(sources, target)
        return self._index[target]

    async def _choose_index(self, sources: plan.Sources, target: InstallTarget) -> list[str]:
        if target.backend == "none":
            return sources.args()
        try:
            source = await choose_torch_source(
                target.backend,
                sources,
                override=target.torch_index,
                pytorch_index=self.settings.pytorch_index,
                probe=self.probe,
            )
        except ComfyTuiError as exc:  # the build's index is down: estimate from the sources
            log.info("size estimate: %s", exc)
            return sources.args()
        return plan.torch_index_args(sources, source.url, "uv") if source.url else sources.args()

    async def _compile(self, uv: str, requirements: str, target: InstallTarget) -> SizeEstimate:
        s = self.settings
        sources = plan.Sources(s.index_url, s.extra_index_urls, s.find_links)
        index_args = await self._index_args(sources, target)
        with tempfile.TemporaryDirectory(prefix="size-", dir=self.paths.cache_dir()) as tmp:
            folder = Path(tmp)
            await asyncio.to_thread((folder / "requirements.txt").write_text, requirements)
            argv = [uv, "pip", "compile", "requirements.txt", "--format", "pylock.toml"]
            argv += ["-o", "pylock.toml", "--no-config", "--quiet", "--python", target.python]
            argv += ["--cache-dir", str(self.paths.uv_cache()), *index_args]
            env = child_env(os.environ, uv_cache=self.paths.uv_cache())
            run = await run_capture(argv, cwd=folder, env=env, timeout=RESOLVE_TIMEOUT_S)
            if run.returncode != 0:
                last = (run.stderr.strip().splitlines() or ["no output"])[-1]
                raise ValueError(f"uv pip compile failed: {last}")
            text = await asyncio.to_thread((folder / "pylock.toml").read_text, "utf-8")
        return await asyncio.to_thread(from_pylock, text, _local_size)

"""The ComfyUI release list: GitHub first, then the cache, then the mirror's tags, then honesty.

`GitHubReleases.list()` answers with a `ReleaseList` and never raises for a network problem:

1. `comfyui_repo` not on GitHub (a `file://` mirror, another host): that repository's tags
   (for `file://`), else the tags of `mirrors/ComfyUI.git`.
2. A cache younger than `github_cache_ttl` (and no `refresh`): the cache, no request.
3. GitHub (`github_http`), conditional on the cached ETag; 304 keeps the list and renews
   `fetched_at`. A new list is written to `metadata/github_cache.json` (atomic).
4. GitHub unreachable, rate-limited or odd: the cache with its age and a warning; nothing cached:
   the mirror's tags; nothing at all: an empty list with a message saying what to do.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from comfy_tui.core.units import format_age
from comfy_tui.errors import ComfyTuiError, MetadataError, NetworkError
from comfy_tui.paths import DataPaths
from comfy_tui.services.github_http import GitHubClient, RateLimited, Sleep
from comfy_tui.services.mirror_tags import mirror_tags
from comfy_tui.services.release_list import (
    Release,
    ReleaseList,
    from_cache_item,
    from_github_item,
    ordered,
)
from comfy_tui.settings import Settings
from comfy_tui.store.jsonfile import read_json, write_json

log = logging.getLogger(__name__)

CACHE_SCHEMA = 1
_GITHUB_HOSTS = frozenset({"github.com", "www.github.com"})


@dataclass(frozen=True)
class RepoRef:
    owner: str
    name: str

    def __str__(self) -> str:
        return f"{self.owner}/{self.name}"


def github_repo(url: str) -> RepoRef | None:
    """owner/name of a `https://github.com/owner/name(.git)` URL; None for any other URL."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https" or (parts.hostname or "").lower() not in _GITHUB_HOSTS:
        return None
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) != 2:
        return None
    owner, name = segments[0], segments[1].removesuffix(".git")
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
    if not owner or not name or not set(owner + name) <= allowed or name in (".", ".."):
        return None
    return RepoRef(owner, name)


@dataclass(frozen=True)
class _Cache:
    releases: tuple[Release, ...]
    fetched_at: float
    etag: str | None


class GitHubReleases:
    """The release list for the TUI and the CLI. Tests inject `clock`, `sleep` and `jitter`."""

    def __init__(
        self,
        settings: Settings,
        paths: DataPaths,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
        jitter: Callable[[], float] = random.random,
        git: str = "git",
    ) -> None:
        self.settings = settings
        self.paths = paths
        self.clock = clock
        self.git = git
        self.client = GitHubClient(
            settings.github_api, settings.github_token, sleep=sleep, jitter=jitter, clock=clock
        )

    @property
    def repo(self) -> RepoRef | None:
        return github_repo(self.settings.comfyui_repo)

    async def cached(self) -> ReleaseList | None:
        """The cached list with its age, without any request (None when nothing is cached)."""
        repo = self.repo
        cache = await asyncio.to_thread(self._read_cache, repo) if repo else None
        return self._from_cache(cache) if cache else None

    async def list(self, *, refresh: bool = False) -> ReleaseList:
        """The best release list available now (see the module docstring); never raises for
        network trouble: the reason is in `warning`/`error`."""
        repo = self.repo
        if repo is None:
            return await self._not_on_github()
        cache = await asyncio.to_thread(self._read_cache, repo)
        if cache and not refresh and 0 <= self.clock() - cache.fetched_at < self._ttl():
            return self._from_cache(cache)
        try:
            fetched = await self.client.fetch_releases(
                repo.owner, repo.name, cache.etag if cache and cache.releases else None
            )
        except RateLimited as exc:
            short, error = str(exc), str(exc)
        except NetworkError as exc:
            short, error = _short(exc), str(exc)
        else:
            now = self.clock()
            if not fetched.modified and cache:
                releases, etag = cache.releases, cache.etag
            else:
                releases = ordered(r for r in map(from_github_item, fetched.items) if r)
                etag = fetched.etag
            await asyncio.to_thread(self._write_cache, repo, releases, now, etag)
            return ReleaseList(releases, "github", fetched_at=now, age_s=0.0)
        log.warning("release list: %s", error)
        return await self._fallback(cache, short, error)

    # --- fallbacks -------------------------------------------------------------------
    async def _fallback(self, cache: _Cache | None, short: str, error: str) -> ReleaseList:
        if cache:
            listed = self._from_cache(cache)
            age = format_age(listed.age_s or 0.0)
            return replace(listed, warning=f"{short} — showing releases cached {age}", error=error)
        tags = await mirror_tags(self._mirror(), git=self.git)
        if tags:
            return ReleaseList(
                ordered(tags),
                "mirror",
                warning=f"{short} — showing the tags of the local mirror",
                error=error,
            )
        return ReleaseList(
            (),
            "none",
            warning=f"{short} and no releases are cached",
            error=error,
        )

    async def _not_on_github(self) -> ReleaseList:
        url = self.settings.comfyui_repo
        repo_dir = _local_path(url)
        tags = await mirror_tags(repo_dir, git=self.git) if repo_dir else None
        if tags is None:
            tags = await mirror_tags(self._mirror(), git=self.git)
        if tags:
            return ReleaseList(ordered(tags), "mirror", fetched_at=self.clock(), age_s=0.0)
        return ReleaseList(
            (),
            "none",
            warning="No releases known: the ComfyUI repository is not on GitHub and has no tags "
            "here yet",
            error=f"{url} has no GitHub API and no readable local tags",
        )

    def _mirror(self) -> Path:
        return self.paths.root / "mirrors" / "ComfyUI.git"

    def _ttl(self) -> float:
        return self.settings.github_cache_ttl

    # --- cache file ------------------------------------------------------------------
    def _from_cache(self, cache: _Cache) -> ReleaseList:
        age = max(0.0, self.clock() - cache.fetched_at)
        return ReleaseList(cache.releases, "cache", fetched_at=cache.fetched_at, age_s=age)

    def _read_cache(self, repo: RepoRef) -> _Cache | None:
        path = self.paths.root / "metadata" / "github_cache.json"
        try:
            doc = read_json(path, schema=CACHE_SCHEMA, default={})
        except (MetadataError, OSError) as exc:
            log.warning("ignoring the release cache: %s", exc)
            return None
        if doc.get("repo") != str(repo) or doc.get("api") != self.settings.github_api:
            return None
        fetched_at = doc.get("fetched_at")
        items = doc.get("releases")
        if not isinstance(fetched_at, int | float) or not isinstance(items, list):
            log.warning("ignoring the release cache %s: unexpected content", path)
            return None
        etag = doc.get("etag")
        releases = ordered(r for r in map(from_cache_item, items) if r)
        return _Cache(releases, float(fetched_at), etag if isinstance(etag, str) else None)

    def _write_cache(
        self, repo: RepoRef, releases: tuple[Release, ...], now: float, etag: str | None
    ) -> None:
        doc: dict[str, Any] = {
            "api": self.settings.github_api,
            "repo": str(repo),
            "fetched_at": now,
            "etag": etag,
            "releases": [r.to_json() for r in releases],
        }
        try:
            write_json(self.paths.github_cache(), doc, schema=CACHE_SCHEMA)
        except (ComfyTuiError, OSError) as exc:  # a full disk must not hide the fresh list
            log.warning("cannot write the release cache: %s", exc)


def _short(exc: NetworkError) -> str:
    """The reason in a few words for a status line; the full text goes to `error`."""
    text = str(exc)
    if text.startswith("GitHub unreachable"):
        return "GitHub unreachable"
    return text.split(" (")[0] if len(text) > 60 else text


def _local_path(url: str) -> Path | None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "file":
        return None
    return Path(urllib.parse.unquote(parts.path))

"""GitHub's REST API for one thing: every page of a repository's releases, politely.

- Conditional request: page 1 carries `If-None-Match` with the cached ETag; 304 = unchanged.
- Pagination: follows `Link: <...>; rel="next"`, only to the configured API origin.
- Redirects (a renamed repository answers 301) are followed by hand, same origin only, so the
  token can never be sent to another host.
- Rate limits: 403/429 with `X-RateLimit-Remaining: 0` raise `RateLimited` with the reset time;
  `Retry-After` is honoured (slept, when short; else reported).
- 5xx, timeouts and dropped connections are retried after 2, 4 and 8 s (plus jitter); the
  sleep and the randomness are injectable so tests run fast.
- The token goes in `Authorization: Bearer ...` and nowhere else; it is never logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from comfy_tui.core.timefmt import format_clock
from comfy_tui.core.units import format_duration
from comfy_tui.errors import NetworkError
from comfy_tui.services.net import Network

log = logging.getLogger(__name__)

RETRY_DELAYS: tuple[float, ...] = (2.0, 4.0, 8.0)
"""Waits before the 2nd, 3rd and 4th try of a request that failed with a 5xx or no answer."""
JITTER = 0.25
"""Each wait is stretched by up to this fraction, at random, so clients do not retry in step."""
MAX_RETRY_AFTER = 60.0
"""A `Retry-After` up to this many seconds is slept; a longer one is reported as a rate limit."""
MAX_PAGES = 50
MAX_REDIRECTS = 5
TIMEOUT = aiohttp.ClientTimeout(total=30, sock_connect=10, sock_read=20)
USER_AGENT = "comfy-tui"

Sleep = Callable[[float], Awaitable[None]]


class RateLimited(NetworkError):
    """GitHub's rate limit is spent; `reset_at` (epoch seconds) says when it comes back."""

    def __init__(self, reset_at: float | None) -> None:
        self.reset_at = reset_at
        when = f", resets at {format_clock(reset_at)}" if reset_at else ""
        super().__init__(f"GitHub rate limit{when}")


@dataclass(frozen=True)
class FetchResult:
    """`modified` False: GitHub said 304, the cached list is current (`items` is empty)."""

    modified: bool
    items: list[Any] = field(default_factory=list)
    etag: str | None = None


@dataclass
class GitHubClient:
    """Fetches `/repos/{owner}/{repo}/releases` from `api` (a base URL from the settings)."""

    api: str
    token: str | None = None
    network: Network = field(default_factory=Network.from_env)
    sleep: Sleep = asyncio.sleep
    jitter: Callable[[], float] = lambda: 0.0
    clock: Callable[[], float] = lambda: 0.0

    def releases_url(self, owner: str, repo: str) -> URL:
        base = URL(self.api.rstrip("/"))
        return base / "repos" / owner / repo / "releases" % {"per_page": "100"}

    async def fetch_releases(self, owner: str, repo: str, etag: str | None = None) -> FetchResult:
        """Every release of owner/repo, or `modified=False` when `etag` is still current."""
        url: URL | None = self.releases_url(owner, repo)
        items: list[Any] = []
        first_etag: str | None = None
        seen: set[str] = set()
        async with self.network.session(timeout=TIMEOUT) as session:
            page = 0
            while url is not None:
                page += 1
                if page > MAX_PAGES or str(url) in seen:
                    raise NetworkError(f"GitHub's release list did not end after {MAX_PAGES} pages")
                seen.add(str(url))
                conditional = etag if page == 1 else None
                status, headers, body, next_url = await self._get(session, url, conditional)
                if status == 304:
                    if page == 1:
                        return FetchResult(modified=False, etag=etag)
                    raise NetworkError("GitHub answered 304 to a request that was not conditional")
                if page == 1:
                    first_etag = headers.get("ETag")
                items.extend(_json_array(body))
                url = next_url
        log.info("fetched %d releases of %s/%s in %d page(s)", len(items), owner, repo, page)
        return FetchResult(modified=True, items=items, etag=first_etag)

    # --- one request, with redirects and retries --------------------------------------
    def _headers(self, etag: str | None) -> dict[str, str]:
        headers = {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": USER_AGENT,
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if etag:
            headers["If-None-Match"] = etag
        return headers

    def _same_origin(self, url: URL) -> bool:
        base = URL(self.api)
        return (url.scheme, url.host, url.port) == (base.scheme, base.host, base.port)

    async def _get(
        self, session: aiohttp.ClientSession, url: URL, etag: str | None
    ) -> tuple[int, CIMultiDict[str], bytes, URL | None]:
        """(status 200 or 304, headers, body, next page URL), after redirects and retries."""
        attempt = 0
        while True:
            try:
                return await self._get_once(session, url, etag)
            except _Retry as retry:
                if attempt >= len(RETRY_DELAYS):
                    raise NetworkError(
                        f"GitHub unreachable at {self.api} ({retry.reason}) "
                        f"after {attempt + 1} tries"
                    ) from None
                wait = retry.wait
                if wait is None:
                    wait = RETRY_DELAYS[attempt] * (1 + JITTER * self.jitter())
                attempt += 1
                log.warning("GitHub: %s; try %d in %.1f s", retry.reason, attempt + 1, wait)
                await self.sleep(wait)

    async def _get_once(
        self, session: aiohttp.ClientSession, url: URL, etag: str | None
    ) -> tuple[int, CIMultiDict[str], bytes, URL | None]:
        for _ in range(MAX_REDIRECTS + 1):
            if not self._same_origin(url):
                raise NetworkError(f"GitHub sent us to another host ({url.host}); not following")
            try:
                options = self.network.request_options(str(url), self._headers(etag))
                async with session.get(url, allow_redirects=False, **options) as response:
                    body = await response.read()
                    status = response.status
                    headers = CIMultiDict(response.headers)
                    link = response.links.get("next")
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise _Retry(_describe(exc)) from None
            if status in (301, 302, 307, 308) and "Location" in headers:
                url = url.join(URL(headers["Location"]))
                log.info("GitHub redirected the release list to %s", url.path)
                continue
            _check_status(status, headers, body, self.clock)
            next_url = url.join(URL(str(link["url"]))) if link and "url" in link else None
            return status, headers, body, next_url
        raise NetworkError(f"GitHub redirected more than {MAX_REDIRECTS} times")


class _Retry(Exception):
    """Internal: this try failed in a way worth another one (`wait` None = use the backoff)."""

    def __init__(self, reason: str, wait: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.wait = wait


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"cannot connect: {exc.os_error.strerror or exc.os_error}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "the connection was dropped"
    return f"{type(exc).__name__}: {exc}".split("\n")[0][:200]


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _message(body: bytes) -> str:
    """GitHub's `{"message": ...}` of an error answer, one short line."""
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return ""
    text = doc.get("message") if isinstance(doc, dict) else None
    return " ".join(str(text).split())[:160] if text else ""


def _check_status(
    status: int, headers: CIMultiDict[str], body: bytes, clock: Callable[[], float]
) -> None:
    """Return for 200/304; raise `_Retry`, `RateLimited` or `NetworkError` for the rest."""
    if status in (200, 304):
        return
    said = _message(body)
    detail = f": {said}" if said else ""
    retry_after = _number(headers.get("Retry-After"))
    if status in (403, 429):
        if headers.get("X-RateLimit-Remaining") == "0":
            raise RateLimited(_number(headers.get("X-RateLimit-Reset")))
        if retry_after is not None:
            if retry_after <= MAX_RETRY_AFTER:
                raise _Retry(
                    f"GitHub asked to wait {format_duration(retry_after, precision=1)}",
                    max(retry_after, 0.0),
                )
            raise RateLimited(clock() + retry_after)
        if status == 429:
            raise RateLimited(None)
        raise NetworkError(f"GitHub refused the request (HTTP 403{detail})")
    if status >= 500:
        raise _Retry(f"HTTP {status}")
    if status == 401:
        raise NetworkError("GitHub rejected the token (HTTP 401): check the github_token setting")
    if status == 404:
        raise NetworkError(f"GitHub has no such repository (HTTP 404{detail})")
    raise NetworkError(f"GitHub answered HTTP {status}{detail}")


def _json_array(body: bytes) -> list[Any]:
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise NetworkError(f"GitHub sent a release list that is not JSON ({exc})") from None
    if not isinstance(doc, list):
        raise NetworkError("GitHub sent a release list that is not a JSON array")
    return doc

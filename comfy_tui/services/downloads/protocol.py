"""The HTTP side of a download: validators, ranges, statuses, and redirects followed by hand.

`open_following` sends one GET and follows up to `MAX_REDIRECTS` redirects itself, so each hop
is checked (`urls.check_hop`) and the Bearer token is sent only to the first URL's origin.
"""

from __future__ import annotations

import asyncio
import collections
import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from comfy_tui.core.url_secrets import redact_url
from comfy_tui.errors import ValidationError
from comfy_tui.services.downloads.data import DownloadError
from comfy_tui.services.downloads.urls import MAX_REDIRECTS, check_hop, origin
from comfy_tui.services.net import Network

NETWORK_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError)
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")
_UNSATISFIED = re.compile(r"bytes\s+\*/(\d+)")


class Retry(Exception):
    """A transient failure: try again after a pause (`retry_after` from the server)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class Again(Exception):
    """Ask again at once with the current resume state (not a failure)."""


@dataclass(frozen=True)
class Validator:
    """What `If-Range` compares: a strong ETag, else Last-Modified."""

    etag: str | None
    last_modified: str | None

    @classmethod
    def from_headers(cls, headers: Mapping[str, str]) -> Validator:
        etag = headers.get("ETag")
        strong = etag if etag and not etag.startswith("W/") else None
        return cls(strong, headers.get("Last-Modified"))

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Validator:
        etag, modified = doc.get("etag"), doc.get("last_modified")
        return cls(
            etag if isinstance(etag, str) else None,
            modified if isinstance(modified, str) else None,
        )

    def if_range(self) -> str | None:
        return self.etag or self.last_modified

    def same(self, other: Validator) -> bool:
        if self.etag and other.etag:
            return self.etag == other.etag
        if self.last_modified and other.last_modified:
            return self.last_modified == other.last_modified
        return False


def leftover(content: aiohttp.StreamReader) -> bytes:
    """The body bytes aiohttp had received but not handed out when the connection broke.

    Its ``readany`` raises the connection error before returning what is still buffered, so
    under load a whole megabyte that did arrive would be asked for again. These bytes come
    from the reader's buffer (empty if a future aiohttp keeps it elsewhere).
    """
    buffer = getattr(content, "_buffer", None)
    if not isinstance(buffer, collections.deque) or not buffer:
        return b""
    offset = getattr(content, "_buffer_offset", 0)
    data = b"".join(bytes(piece) for piece in buffer)
    return data[offset:] if isinstance(offset, int) else data


def parse_content_range(value: str | None) -> tuple[int, int, int | None] | None:
    """(first byte, last byte, total or None) of a 206's Content-Range."""
    match = _CONTENT_RANGE.fullmatch((value or "").strip())
    if not match:
        return None
    total = None if match.group(3) == "*" else int(match.group(3))
    return int(match.group(1)), int(match.group(2)), total


def unsatisfied_total(value: str | None) -> int | None:
    """The total size a 416 reports (``bytes */N``)."""
    match = _UNSATISFIED.fullmatch((value or "").strip())
    return int(match.group(1)) if match else None


def host_of(url: str) -> str:
    return urllib.parse.urlsplit(url).hostname or url


def proxy_error(status: int) -> DownloadError:
    if status == 407:
        return DownloadError(
            "the proxy asks for credentials (HTTP 407): put them in HTTPS_PROXY / HTTP_PROXY"
            " (http://user:password@proxy:port)"
        )
    return DownloadError(f"the proxy refused the connection (HTTP {status})")


def status_error(status: int, url: str) -> DownloadError:
    """The generic one-line error for a final answer that is not 200/206 (and not retried)."""
    where = redact_url(url)
    if status == 407:
        return proxy_error(status)
    if status in (401, 403):
        return DownloadError(f"access denied (HTTP {status}) to {where}: it may need a token")
    if status in (404, 410):
        return DownloadError(f"not found (HTTP {status}): {where}")
    return DownloadError(f"HTTP {status} from {host_of(url)} for {where}")


async def open_following(
    session: aiohttp.ClientSession,
    url: str,
    headers: Mapping[str, str],
    *,
    token: str | None,
    allow_local: bool,
    on_response: Callable[[Mapping[str, str]], None] | None = None,
    network: Network | None = None,
) -> tuple[aiohttp.ClientResponse, str]:
    """GET `url`, following redirects by hand (each hop through `network`'s proxy for it).
    Returns the final response and its URL.

    Raises `Retry` when a host cannot be reached, `DownloadError` for a refused redirect
    target, a redirect without Location, or more than `MAX_REDIRECTS` redirects.
    """
    first = url
    for _hop in range(MAX_REDIRECTS + 1):
        sent = dict(headers)
        if token and origin(url) == origin(first):
            sent["Authorization"] = f"Bearer {token}"
        try:
            options = (network or Network()).request_options(url, sent)
            response = await session.get(url, allow_redirects=False, **options)
        except aiohttp.ClientConnectorCertificateError as exc:
            raise DownloadError(
                f"the certificate of {host_of(url)} is not trusted ({exc.certificate_error});"
                " if your company's CA signs it, set SSL_CERT_FILE to its bundle"
            ) from None
        except aiohttp.ClientHttpProxyError as exc:
            raise proxy_error(exc.status) from None
        except NETWORK_ERRORS as exc:
            raise Retry(f"cannot reach {host_of(url)} ({type(exc).__name__})") from None
        if on_response is not None:
            try:
                on_response(response.headers)  # may stop here (`HubFastPath`)
            except BaseException:
                response.release()
                raise
        if response.status not in _REDIRECTS:
            return response, url
        location = response.headers.get("Location")
        response.release()
        if not location:
            raise DownloadError(f"{host_of(url)} answered a redirect without a Location")
        try:
            url = check_hop(url, urllib.parse.urljoin(url, location), allow_local=allow_local)
        except ValidationError as exc:
            raise DownloadError(str(exc)) from None
    raise DownloadError(
        f"too many redirects (more than {MAX_REDIRECTS}) starting at {host_of(first)}"
    )

"""Proxies and certificates for every HTTP client comfy-tui runs (GitHub, Hugging Face, CivitAI,
plain URLs): read once from the environment, applied explicitly per request.

- ``HTTPS_PROXY`` / ``HTTP_PROXY`` (lower case wins, as in curl; ``ALL_PROXY`` as a fallback)
  pick the proxy by the URL's scheme; ``NO_PROXY`` lists hosts reached directly: ``*``,
  ``host``, ``.domain`` or ``domain`` (sub-domains too), an IP, a CIDR block, each with an
  optional ``:port``. Credentials in a proxy URL become ``Proxy-Authorization`` (Basic),
  sent to the proxy only.
- ``SSL_CERT_FILE``, else ``REQUESTS_CA_BUNDLE``, else ``CURL_CA_BUNDLE`` replaces the CA
  bundle (a company CA); ``SSL_CERT_DIR`` adds a directory of CAs.

aiohttp's own ``trust_env`` is not used: it would also send ``~/.netrc`` passwords to any host
in it, next to our own Authorization header. `Network.public()` is what `comfy-tui config`
shows, proxy credentials masked.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from comfy_tui.core.url_secrets import redact_url
from comfy_tui.errors import NetworkError

if TYPE_CHECKING:  # aiohttp and ssl load only when a request is made (`config` stays quick)
    import ssl

    import aiohttp

_AUTH = "Proxy-Authorization"
CA_VARIABLES = ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")


_CONTEXTS: dict[tuple[str | None, str | None, tuple[int, int, int] | None], ssl.SSLContext] = {}
"""SSL contexts built, by (CA file, CA directory, the file's size, mtime and inode)."""
_CONTEXTS_MAX = 4


def _file_stamp(path: str | None) -> tuple[int, int, int] | None:
    if path is None:
        return None
    info = os.stat(path)
    return info.st_size, info.st_mtime_ns, info.st_ino


def _first(env: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return value
    return None


def _proxy_url(value: str | None) -> str | None:
    if value is None:
        return None
    return value if "://" in value else f"http://{value}"


@dataclass(frozen=True)
class Proxy:
    """Where one request goes through: the proxy URL without credentials, and those."""

    url: str
    user: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Network:
    https_proxy: str | None = field(default=None, repr=False)
    http_proxy: str | None = field(default=None, repr=False)
    no_proxy: tuple[str, ...] = ()
    ca_file: str | None = None
    ca_dir: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Network:
        env = os.environ if env is None else env
        every = _first(env, "all_proxy", "ALL_PROXY")
        no_proxy = _first(env, "no_proxy", "NO_PROXY") or ""
        return cls(
            https_proxy=_proxy_url(_first(env, "https_proxy", "HTTPS_PROXY") or every),
            http_proxy=_proxy_url(_first(env, "http_proxy", "HTTP_PROXY") or every),
            no_proxy=tuple(p.strip().lower() for p in no_proxy.split(",") if p.strip()),
            ca_file=_first(env, *CA_VARIABLES),
            ca_dir=_first(env, "SSL_CERT_DIR"),
        )

    # --- proxies --------------------------------------------------------------------------
    def bypass(self, url: str) -> bool:
        """True when `url`'s host is listed in NO_PROXY."""
        parts = urllib.parse.urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
        try:
            port = parts.port
        except ValueError:
            port = None
        return any(_matches(entry, host, port) for entry in self.no_proxy)

    def proxy_for(self, url: str) -> Proxy | None:
        scheme = urllib.parse.urlsplit(url).scheme.lower()
        chosen = self.https_proxy if scheme == "https" else self.http_proxy
        if chosen is None or self.bypass(url):
            return None
        parts = urllib.parse.urlsplit(chosen)
        host = parts.netloc.rpartition("@")[2]
        bare = urllib.parse.urlunsplit(parts._replace(netloc=host))
        user = urllib.parse.unquote(parts.username) if parts.username is not None else None
        password = urllib.parse.unquote(parts.password) if parts.password is not None else None
        return Proxy(bare, user, password)

    def request_options(self, url: str, headers: Mapping[str, str]) -> dict[str, Any]:
        """Keyword arguments for ``session.get(url, ...)``: `headers`, and the proxy if any.

        The proxy's credentials go in the CONNECT request of an https URL, or beside the
        request itself for a plain http URL (which the proxy forwards without them)."""
        sent = dict(headers)
        proxy = self.proxy_for(url)
        if proxy is None:
            return {"headers": sent}
        if proxy.user is None:
            return {"headers": sent, "proxy": proxy.url}
        pair = f"{proxy.user}:{proxy.password or ''}".encode()
        basic = "Basic " + base64.b64encode(pair).decode("ascii")
        if urllib.parse.urlsplit(url).scheme.lower() == "https":
            return {"headers": sent, "proxy": proxy.url, "proxy_headers": {_AUTH: basic}}
        return {"headers": {**sent, _AUTH: basic}, "proxy": proxy.url}

    # --- certificates ---------------------------------------------------------------------
    def ssl_context(self) -> ssl.SSLContext | bool:
        """The CA bundle to verify servers with (True: the system's).

        Loading a bundle takes 40-150 ms of CPU (it parses every certificate) and runs on the
        event loop when a session opens, so the context is built once per bundle and shared
        (an `SSLContext` serves any number of connections); a bundle file replaced or
        changed since (another size, mtime or inode) is loaded again."""
        if self.ca_file is None and self.ca_dir is None:
            return True
        import ssl

        try:
            key = (self.ca_file, self.ca_dir, _file_stamp(self.ca_file))
            context = _CONTEXTS.get(key)
            if context is None:
                context = ssl.create_default_context(cafile=self.ca_file, capath=self.ca_dir)
                if len(_CONTEXTS) >= _CONTEXTS_MAX:
                    _CONTEXTS.clear()
                _CONTEXTS[key] = context
            return context
        except (OSError, ssl.SSLError) as exc:
            where = self.ca_file or self.ca_dir
            reason = getattr(exc, "strerror", None) or exc
            raise NetworkError(f"cannot use the CA bundle {where}: {reason}") from None

    def session(self, **options: Any) -> aiohttp.ClientSession:
        """A ClientSession verifying with our CA bundle; proxies come from `request_options`."""
        import aiohttp

        connector = aiohttp.TCPConnector(ssl=self.ssl_context())
        return aiohttp.ClientSession(connector=connector, trust_env=False, **options)

    # --- display --------------------------------------------------------------------------
    def public(self) -> dict[str, Any]:
        """What `comfy-tui config` shows: proxy URLs with their credentials masked."""
        return {
            "https_proxy": redact_url(self.https_proxy) if self.https_proxy else None,
            "http_proxy": redact_url(self.http_proxy) if self.http_proxy else None,
            "no_proxy": list(self.no_proxy),
            "ca_bundle": self.ca_file,
            "ca_dir": self.ca_dir,
        }


def _matches(entry: str, host: str, port: int | None) -> bool:
    if entry == "*":
        return True
    want_port: int | None = None
    if entry.startswith("["):  # [v6]:port
        inside, _, rest = entry[1:].partition("]")
        entry = inside
        if rest.startswith(":") and rest[1:].isdigit():
            want_port = int(rest[1:])
    elif entry.count(":") == 1:
        name, _, tail = entry.partition(":")
        if tail.isdigit():
            entry, want_port = name, int(tail)
    if want_port is not None and port is not None and want_port != port:
        return False
    if "/" in entry:
        try:
            return ipaddress.ip_address(host.strip("[]")) in ipaddress.ip_network(
                entry, strict=False
            )
        except ValueError:
            return False
    entry = entry.lstrip("*").lstrip(".").rstrip(".")
    return bool(entry) and (host == entry or host.endswith("." + entry))

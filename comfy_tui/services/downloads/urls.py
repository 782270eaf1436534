"""URL rules for downloads: which hops are allowed, and which carry the token.

Every URL a download touches (the first one and each redirect target) passes `check_hop`:
https, or http to a loopback host when the user allowed it; a redirect may never go from a
public host to a loopback one. The Authorization header goes only to the origin of the first
URL (`same_origin`).
"""

from __future__ import annotations

import urllib.parse

from comfy_tui.errors import ValidationError
from comfy_tui.validate import is_loopback_host, validate_url

MAX_REDIRECTS = 10


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) with the default port filled in."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    port = parts.port or (443 if scheme == "https" else 80)
    return scheme, (parts.hostname or "").lower(), port


def same_origin(a: str, b: str) -> bool:
    return origin(a) == origin(b)


def is_loopback_url(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname
    return bool(host) and is_loopback_host(host or "")


def check_download_url(url: str, *, allow_local: bool, what: str = "download URL") -> str:
    """Validate a download URL: https, or loopback http when `allow_local`; never file://."""
    checked = validate_url(url, allow_local=allow_local, what=what)
    if urllib.parse.urlsplit(checked).scheme.lower() == "file":
        raise ValidationError(f"invalid {what} {url!r}: use https://")
    return checked


def check_hop(previous: str, target: str, *, allow_local: bool) -> str:
    """Validate a redirect target `target` reached from `previous`."""
    checked = check_download_url(target, allow_local=allow_local, what="redirect target")
    if is_loopback_url(checked) and not is_loopback_url(previous):
        raise ValidationError(
            f"refusing a redirect from {origin(previous)[1]} to a loopback address"
        )
    return checked

"""Credentials inside URLs: which query parameters carry them, and one way to mask them.

Signed CDN links and "copy link" buttons put secrets in the query string (``?token=``,
``?sig=``, ``X-Amz-Signature=``) or in the user-info part (``https://user:pw@host``). Every
place that shows, logs or stores a URL passes it through `redact_url` first; `redact_text`
does the same for every URL inside a longer text (log lines, error messages).
"""

from __future__ import annotations

import re
import urllib.parse

MASK = "***"

SECRET_PARAMS = frozenset(
    {
        "token",
        "access_token",
        "auth",
        "auth_token",
        "key",
        "api_key",
        "apikey",
        "sig",
        "signature",
        "password",
        "secret",
        "client_secret",
        "session",
        "download_token",
    }
)
"""Query parameter names (compared case-insensitively) whose value is a credential."""

SECRET_PREFIXES = ("x-amz-", "x-goog-")
"""Parameter name prefixes of signed cloud-storage links (AWS, GCS): all masked."""

_URL = re.compile(r"""[A-Za-z][A-Za-z0-9+.-]*://[^\s'"<>]+""")
_BARE_PARAM = re.compile(r"""(?i)([?&](?:[a-z0-9_.-]+)=)([^&\s'"<>#]+)""")


def is_secret_param(name: str) -> bool:
    lowered = urllib.parse.unquote_plus(name).strip().lower()
    return lowered in SECRET_PARAMS or lowered.startswith(SECRET_PREFIXES)


def _mask_query(query: str) -> str:
    pieces = []
    for piece in query.split("&"):
        name, eq, _value = piece.partition("=")
        pieces.append(f"{name}={MASK}" if eq and is_secret_param(name) else piece)
    return "&".join(pieces)


def redact_url(url: str) -> str:
    """`url` with its user-info and the values of credential parameters replaced by ``***``.

    Everything else (host, path, harmless parameters such as ``?download=true``) is kept as
    written, so the result still says which file was meant.
    """
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return _BARE_PARAM.sub(_mask_bare, url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc, query=_mask_query(parts.query)))


def has_url_secret(url: str) -> bool:
    """True when `redact_url` would change `url`."""
    return redact_url(url) != url


def _mask_bare(match: re.Match[str]) -> str:
    name = match.group(1)[1:-1]
    return match.group(1) + MASK if is_secret_param(name) else match.group(0)


def redact_text(text: str) -> str:
    """`text` with every URL in it redacted, and credential parameters outside URLs too."""
    text = _URL.sub(lambda m: redact_url(m.group(0)), text)
    return _BARE_PARAM.sub(_mask_bare, text)

"""File names for downloads: from Content-Disposition or the URL, made safe for the library.

A name that comes from a server is data, not a path: only its last component is kept, leading
dots (hidden names) and control characters are dropped, and the result must pass
`validate_filename`. An empty result falls back to the next source.
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse
from email.message import Message
from pathlib import Path

from comfy_tui.errors import ValidationError
from comfy_tui.validate import validate_filename

_EXTENDED = re.compile(r"filename\*\s*=\s*([A-Za-z0-9_-]*)'[^']*'([^;]+)", re.IGNORECASE)
_PLAIN = re.compile(r'filename\s*=\s*"?([^";]+)"?', re.IGNORECASE)
_MAX_BYTES = 200
"""Room left under the 255-byte limit for the `.part.json.lock` suffixes."""


def sanitize_filename(raw: str) -> str | None:
    """The safe file name hidden in `raw`, or None when nothing usable is left.

    ``../../etc/x`` → ``x``; ``.hidden`` → ``hidden``; ``a\\b.bin`` → ``b.bin``.
    """
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip().lstrip(".").strip()
    if not name:
        return None
    encoded = name.encode("utf-8", "ignore")
    if len(encoded) > _MAX_BYTES:
        stem, dot, ext = name.rpartition(".")
        keep = ext if dot and len(ext) <= 16 else ""
        budget = _MAX_BYTES - len(keep.encode()) - 1
        head = (stem if dot else name).encode("utf-8", "ignore")[:budget].decode("utf-8", "ignore")
        name = f"{head}.{keep}" if keep else head
    try:
        return validate_filename(name)
    except ValidationError:
        return None


def filename_from_disposition(header: str | None) -> str | None:
    """The file name a Content-Disposition header offers (``filename*`` wins), sanitised."""
    if not header:
        return None
    raw: str | None = None
    extended = _EXTENDED.search(header)
    if extended:
        charset = extended.group(1) or "utf-8"
        try:
            raw = urllib.parse.unquote(extended.group(2).strip(), encoding=charset, errors="strict")
        except (LookupError, UnicodeDecodeError):
            raw = None
    if raw is None:
        msg = Message()
        msg["content-disposition"] = header
        try:
            found = msg.get_param("filename", header="content-disposition")
        except (ValueError, LookupError):
            found = None
        raw = found if isinstance(found, str) else None
    if raw is None:
        match = _PLAIN.search(header)
        raw = match.group(1) if match else None
    return sanitize_filename(raw) if raw else None


def filename_from_url(url: str) -> str | None:
    """The last path segment of `url`, percent-decoded and sanitised."""
    path = urllib.parse.urlsplit(url).path
    segment = path.rstrip("/").rsplit("/", 1)[-1]
    return sanitize_filename(urllib.parse.unquote(segment)) if segment else None


def free_name(directory: Path, name: str) -> str:
    """`name`, or ``stem-2.ext``, ``stem-3.ext``, …: the first name no file or link in
    `directory` has yet, so a name the server chose never overwrites (blocking). A `.part`
    does not count as taken: it is this download's own, resumed."""

    def taken(candidate: str) -> bool:
        target = directory / candidate
        return target.exists() or target.is_symlink()

    if not taken(name):
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    for n in range(2, 1000):
        candidate = f"{stem}-{n}.{ext}" if ext else f"{stem}-{n}"
        if len(candidate.encode()) <= _MAX_BYTES + 8 and not taken(candidate):
            return candidate
    return name  # every suffix taken: the caller refuses the existing name

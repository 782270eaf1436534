"""The data a download carries: what was asked, what it resolved to, and how it ended."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from comfy_tui.errors import ComfyTuiError, ValidationError

_SHA256 = re.compile(r"[0-9a-f]{64}")


def normalize_sha256(value: str, *, what: str = "sha256") -> str:
    """A sha256 as 64 lower-case hex digits (``sha256:`` prefix and upper case accepted)."""
    text = value.strip().lower().removeprefix("sha256:") if isinstance(value, str) else ""
    if not _SHA256.fullmatch(text):
        raise ValidationError(f"invalid {what} {value!r}: expected 64 hexadecimal digits")
    return text


class Kind(StrEnum):
    URL = "url"
    HF = "hf"
    CIVITAI = "civitai"


class State(StrEnum):
    QUEUED = "queued"
    ACTIVE = "active"
    PAUSED = "paused"
    FAILED = "failed"
    DONE = "done"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class DownloadRequest:
    """What the user asked for (CLI arguments or the add dialog); checked by the resolver."""

    source: str
    file: str | None = None
    folder: str | None = None
    sha256: str | None = None
    revision: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> DownloadRequest:
        def opt(key: str) -> str | None:
            value = doc.get(key)
            return value if isinstance(value, str) else None

        return cls(
            source=str(doc.get("source", "")),
            file=opt("file"),
            folder=opt("folder"),
            sha256=opt("sha256"),
            revision=opt("revision"),
        )


@dataclass(frozen=True)
class DownloadSpec:
    """A checked download: the URL to fetch, where it goes, what to expect.

    `key` names the download across runs (the partial file's sidecar records it, so a part is
    only resumed by the same download). `token` is sent as a Bearer token, only to the origin
    of `url`; it is never persisted or logged.
    """

    kind: Kind
    key: str
    url: str
    folder: str
    filename: str | None = None
    expected_sha256: str | None = None
    allow_local: bool = False
    token: str | None = field(default=None, repr=False)
    repo_id: str | None = None
    revision: str | None = None
    path_in_repo: str | None = None
    civitai_model_id: int | None = None
    civitai_version_id: int | None = None
    source_url: str | None = None


@dataclass(frozen=True)
class DownloadMeta:
    """What the library's indexer records about a finished download (`on_complete`'s 2nd arg)."""

    kind: Kind
    source: str
    url: str
    folder: str
    filename: str
    size: int
    sha256: str
    repo_id: str | None = None
    revision: str | None = None
    commit: str | None = None
    path_in_repo: str | None = None
    civitai_model_id: int | None = None
    civitai_version_id: int | None = None
    etag: str | None = None

    def to_dict(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["kind"] = str(self.kind)
        return doc


OnComplete = Callable[[Path, DownloadMeta], Awaitable[object]]
"""Called once the file is in place (`LibraryService.index_download`); its result is unused."""


class DownloadError(ComfyTuiError):
    """A download failed. `resumable` says the partial file was kept for the next try."""

    def __init__(self, message: str, *, resumable: bool = False) -> None:
        super().__init__(message)
        self.resumable = resumable


class AlreadyExistsError(ComfyTuiError):
    """The target file is already in the library; nothing was downloaded."""


class ChecksumError(DownloadError):
    """The bytes did not match the expected sha256; the partial file was deleted."""


class HubFastPath(Exception):
    """The Hub serves this file through Xet and hf_xet is installed: huggingface_hub fetches
    it (`hub_fast`). Raised by the HTTP engine before it writes a byte."""

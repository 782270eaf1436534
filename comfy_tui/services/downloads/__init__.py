"""Downloads: models from any https URL, Hugging Face and CivitAI, into the library.

Resumable across restarts (`.part` + sidecar, Range/If-Range), verified (sha256 while
streaming), queued (`DownloadQueue`, persisted in `metadata/downloads.json`). The library meets
this package only at the destination folder (``library/models/<folder>``) and at the
`on_complete(path, meta)` callback.
"""

from __future__ import annotations

from comfy_tui.services.downloads.data import (
    AlreadyExistsError,
    ChecksumError,
    DownloadError,
    DownloadMeta,
    DownloadRequest,
    DownloadSpec,
    Kind,
    OnComplete,
    State,
)
from comfy_tui.services.downloads.engine import HttpDownload
from comfy_tui.services.downloads.hf import RepoEntry, list_repo_files
from comfy_tui.services.downloads.queue import DownloadQueue
from comfy_tui.services.downloads.resolve import Resolver
from comfy_tui.services.downloads.retry import RetryPolicy
from comfy_tui.services.downloads.store import DownloadItem
from comfy_tui.services.downloads.target_folder import KNOWN_FOLDERS, canonical_folder

__all__ = [
    "KNOWN_FOLDERS",
    "AlreadyExistsError",
    "ChecksumError",
    "DownloadError",
    "DownloadItem",
    "DownloadMeta",
    "DownloadQueue",
    "DownloadRequest",
    "DownloadSpec",
    "HttpDownload",
    "Kind",
    "OnComplete",
    "RepoEntry",
    "Resolver",
    "RetryPolicy",
    "State",
    "canonical_folder",
    "list_repo_files",
]

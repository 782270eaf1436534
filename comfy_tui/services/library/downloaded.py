"""Index a file a download just put into the library, without a rescan and without re-hashing.

The downloader computed the sha256 while streaming; it is stored for the (size, mtime_ns) the
file has now, so it stays valid until the file changes. The header is read (never the weights)
for the format and architecture, and the source (URL, Hugging Face repo, revision and commit,
or CivitAI ids) is recorded on the row.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from comfy_tui.core.url_secrets import redact_url
from comfy_tui.services.library.walk import FoundFile

if TYPE_CHECKING:
    from comfy_tui.services.downloads.data import DownloadMeta

__all__ = ["DownloadSource", "locate", "source_of", "stat_found"]


@dataclass(frozen=True)
class DownloadSource:
    """The `source_*` columns of a downloaded file's row."""

    url: str | None
    repo: str | None
    revision: str | None
    commit: str | None


def source_of(meta: DownloadMeta) -> DownloadSource:
    """Where a download came from, as the index records it (no query strings: signed links
    and `?token=` carry credentials there)."""
    source = meta.source if meta.source.startswith(("https://", "http://")) else meta.url
    url = redact_url(source) if source else None
    if meta.repo_id:
        return DownloadSource(url, meta.repo_id, meta.revision, meta.commit)
    if meta.civitai_model_id is not None or meta.civitai_version_id is not None:
        version = str(meta.civitai_version_id) if meta.civitai_version_id is not None else None
        return DownloadSource(url, f"civitai:{meta.civitai_model_id}", version, None)
    return DownloadSource(url, None, None, meta.commit)


def locate(path: Path, roots: list[Path]) -> tuple[Path, str] | None:
    """(root, POSIX relative path) of `path` inside one of `roots`, or None (blocking)."""
    real = os.path.realpath(path)
    for root in roots:
        root_real = os.path.realpath(root)
        if real.startswith(root_real.rstrip(os.sep) + os.sep):
            return root, Path(os.path.relpath(real, root_real)).as_posix()
    return None


def stat_found(path: Path, relpath: str) -> FoundFile:
    """The scan's view of one file (blocking; OSError when it is gone)."""
    st = os.stat(path)
    return FoundFile(relpath, st.st_size, st.st_mtime_ns, st.st_dev, st.st_ino)

"""Checks around a transfer: free space before, write errors during, sha256 and rename after."""

from __future__ import annotations

import errno
from collections.abc import Callable
from pathlib import Path
from typing import Any

from comfy_tui.core.units import format_bytes, format_duration, format_rate
from comfy_tui.core.url_secrets import redact_url
from comfy_tui.events import Progress
from comfy_tui.services.downloads.data import (
    AlreadyExistsError,
    ChecksumError,
    DownloadError,
    DownloadMeta,
    DownloadSpec,
)
from comfy_tui.services.downloads.partfile import PartFile
from comfy_tui.services.downloads.pipeline import PartThreads
from comfy_tui.services.downloads.sniff import check_fd

DISK_RESERVE = 64 * 1024 * 1024
"""Free space left untouched: a download never fills the disk to the last byte."""

DiskUsage = Callable[[Path], Any]


def check_disk(
    directory: Path, name: str, total: int | None, offset: int, disk_usage: DiskUsage
) -> None:
    """Refuse to start when the rest of the file (plus a reserve) does not fit."""
    if total is None:
        return
    free = int(disk_usage(directory).free)
    need = max(0, total - offset)
    if free < need + DISK_RESERVE:
        keep = " (the partial file is kept)" if offset else ""
        raise DownloadError(
            f"not enough disk space for {name}: {format_bytes(need)} needed,"
            f" {format_bytes(free)} free in {directory}{keep}",
            resumable=offset > 0,
        )


def write_error(exc: OSError, name: str | None, kept: int) -> DownloadError:
    """A failed write (a full disk, most likely): the part keeps what was written."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DownloadError(
            f"the disk is full while writing {name} ({format_bytes(kept)} kept):"
            " free some space, then resume",
            resumable=True,
        )
    return DownloadError(f"cannot write {name}: {exc.strerror or exc}", resumable=True)


def progress(name: str | None, done: int, total: int | None, speed: float | None,
             eta: float | None) -> Progress:  # fmt: skip
    fraction = min(1.0, done / total) if total else 0.0
    rate = format_rate(speed or None, unknown="-- /s")
    of = format_bytes(total) if total is not None else "?"
    detail = f"{format_bytes(done)} / {of}, {rate}, ETA {format_duration(eta, unknown='--')}"
    return Progress(f"download {name}", fraction, done, total, detail)


async def verify_and_commit(
    threads: PartThreads,
    part: PartFile,
    spec: DownloadSpec,
    *,
    expected: str | None,
    commit: str | None,
    etag: str | None,
) -> DownloadMeta:
    """Check the sha256 and the first bytes (`sniff`: a model, not a web page), rename the
    part onto its target, and describe the result."""
    name = part.target.name
    digest = part.hexdigest()
    if expected and digest != expected:
        await threads.call(part.discard)
        raise ChecksumError(
            f"sha256 mismatch for {name}: expected {expected}, got {digest};"
            " the downloaded file was deleted"
        )
    problem = await threads.call(check_fd, name, part.fd)
    if problem is not None:
        await threads.call(part.discard)
        raise DownloadError(problem)
    try:
        await threads.call(part.commit)
    except FileExistsError:
        await threads.call(part.discard)
        raise AlreadyExistsError(
            f"{spec.folder}/{name} appeared in the library meanwhile; kept that one"
        ) from None
    except OSError as exc:
        raise DownloadError(
            f"cannot move {name} into place: {exc.strerror or exc};"
            " the complete partial file is kept",
            resumable=True,
        ) from None
    return DownloadMeta(
        kind=spec.kind,
        source=spec.source_url or spec.key,
        url=redact_url(spec.url),
        folder=spec.folder,
        filename=name,
        size=part.size,
        sha256=digest,
        repo_id=spec.repo_id,
        revision=spec.revision,
        commit=commit,
        path_in_repo=spec.path_in_repo,
        civitai_model_id=spec.civitai_model_id,
        civitai_version_id=spec.civitai_version_id,
        etag=etag,
    )

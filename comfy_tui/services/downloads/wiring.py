"""How a checked `DownloadSpec` becomes a running engine (`HttpDownload`, or `HubFirst` for a
Hub file when huggingface_hub's fast path is installed), and how a stopped one's part
is thrown away: the per-source error messages and the library root live here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from comfy_tui.errors import ComfyTuiError
from comfy_tui.services.downloads.data import DownloadError, DownloadSpec, Kind, OnComplete
from comfy_tui.services.downloads.engine import ErrorHook, HttpDownload
from comfy_tui.services.downloads.hf import HubFile, hub_error
from comfy_tui.services.downloads.hub_fast import HubFirst, fast_path
from comfy_tui.services.downloads.partfile import PartFile
from comfy_tui.settings import Settings
from comfy_tui.validate import ensure_inside, safe_relpath


def error_hook(spec: DownloadSpec, settings: Settings) -> ErrorHook | None:
    """Clearer errors than the generic ones for a source's refusals (gated repo, login)."""
    if spec.kind is Kind.HF and spec.repo_id and spec.revision and spec.path_in_repo:
        file = HubFile(spec.repo_id, spec.revision, spec.path_in_repo)

        def hub(status: int, headers: Mapping[str, str]) -> ComfyTuiError | None:
            return hub_error(status, headers, file, settings)

        return hub
    if spec.kind is Kind.CIVITAI:

        def civitai(status: int, headers: Mapping[str, str]) -> ComfyTuiError | None:
            if status in (401, 403):
                return DownloadError(
                    f"CivitAI refused the download (HTTP {status}): this model needs an"
                    " account; set CIVITAI_API_TOKEN"
                )
            return None

        return civitai
    return None


def make_engine(
    spec: DownloadSpec,
    settings: Settings,
    library_root: Path,
    on_complete: OnComplete | None,
    options: Mapping[str, Any],
) -> HttpDownload | HubFirst:
    """Our HTTP engine; for a Hub file, when huggingface_hub's fast path is installed (and the
    `hf_fast_path` setting is on), `HubFirst`, which hands Xet-backed files to it."""
    options = {"connections": settings.download_segments, **options}

    def http(hub_fast: Callable[[Mapping[str, str]], bool] | None = None) -> HttpDownload:
        return HttpDownload(
            spec,
            library_root,
            on_complete=on_complete,
            error_for_status=error_hook(spec, settings),
            hub_fast=hub_fast,
            **options,
        )

    hub_file = spec.kind is Kind.HF and spec.repo_id and spec.revision and spec.path_in_repo
    mode = fast_path() if hub_file and spec.filename and settings.hf_fast_path else None
    if mode is None:
        return http()
    return HubFirst(
        spec, settings, library_root, mode=mode, on_complete=on_complete, make_http=http
    )


def discard_partial(library_root: Path, folder: str, filename: str) -> None:
    """Delete the `.part` (and sidecar) of a download that is not running (blocking).

    Raises `LockBusyError` when another process is downloading it right now.
    """
    target = ensure_inside(library_root, safe_relpath(library_root, folder) / filename)
    part = PartFile(target)
    if not part.path.exists():
        return
    part.open()
    part.discard()

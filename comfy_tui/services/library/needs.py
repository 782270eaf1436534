"""Which models a workflow needs that the library lacks, and where to get them.

Each `ModelRef` of a workflow (`core.workflow.find_models`) is matched against the library
index: by folder + path inside the folder (ComfyUI's own lookup; a name without extension,
as ``embedding:`` writes it, by its stem), then by sha256 when the
workflow gives one, and for a reference without a folder by file name anywhere. What is
missing is either downloadable (the workflow names a URL) or has no known source.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from comfy_tui.core.workflow import (
    ModelRef,
    Workflow,
    find_models,
    is_model_name,
    read_workflow,
)
from comfy_tui.errors import ValidationError
from comfy_tui.services.downloads.data import DownloadRequest
from comfy_tui.services.library.folder_types import ALIASES, canonical_folder
from comfy_tui.store.models_index import ModelRecord

if TYPE_CHECKING:
    from comfy_tui.services.library.service import LibraryService

Status = Literal["present", "download", "missing"]


@dataclass(frozen=True)
class Need:
    ref: ModelRef
    status: Status
    where: str | None = None  # the library path when present

    @property
    def shown(self) -> str:
        return f"{self.ref.folder}/{self.ref.name}" if self.ref.folder else self.ref.name


def _inside_folder(record: ModelRecord) -> str:
    return record.relpath.split("/", 1)[1] if "/" in record.relpath else record.relpath


def match_needs(refs: list[ModelRef], records: list[ModelRecord]) -> list[Need]:
    by_path = {(r.folder, _inside_folder(r)): r for r in records}
    by_stem = {(r.folder, _inside_folder(r).rsplit(".", 1)[0]): r for r in records}
    by_sha = {r.sha256: r for r in records if r.sha256}
    by_name: dict[str, list[ModelRecord]] = defaultdict(list)
    for r in records:
        by_name[r.name].append(r)
    out: list[Need] = []
    for ref in refs:
        hit: ModelRecord | None = None
        if ref.folder is not None:
            folder = canonical_folder(ref.folder)
            hit = by_path.get((folder, ref.name))
            if hit is None and not is_model_name(ref.name):  # "embedding:EasyNegative"
                hit = by_stem.get((folder, ref.name))
        if hit is None and ref.sha256:
            hit = by_sha.get(ref.sha256)
        if hit is None and ref.folder is None:
            named = by_name.get(ref.name.rsplit("/", 1)[-1])
            hit = named[0] if named else None
        if hit is not None:
            out.append(Need(ref, "present", hit.relpath))
        else:
            out.append(Need(ref, "download" if ref.url else "missing"))
    return out


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"cannot read {path}: {exc.strerror or exc}") from None


async def read_flow(path: Path) -> Workflow:
    """The workflow in `path` (ValidationError when unreadable or holding none)."""
    return read_workflow(await asyncio.to_thread(_read, path), str(path))


async def workflow_needs(library: LibraryService, path: Path) -> list[Need]:
    """Every model the workflow in `path` names, matched against the library."""
    flow = await read_flow(path)
    return match_needs(find_models(flow, ALIASES), await library.list_models())


def download_request(need: Need) -> DownloadRequest | None:
    """The download that brings a missing model with a URL into its folder (None if none)."""
    if need.status != "download" or need.ref.url is None:
        return None
    folder = need.ref.folder
    if folder and "/" in need.ref.name:
        folder = f"{folder}/{need.ref.name.rsplit('/', 1)[0]}"
    return DownloadRequest(need.ref.url, folder=folder)

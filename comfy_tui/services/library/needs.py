"""Which models a workflow needs that the library lacks, and where to get them.

Each `ModelRef` of a workflow (`core.workflow.find_models`) is matched against the library
index: by folder + path inside the folder (ComfyUI's own lookup; a name without extension,
as ``embedding:`` writes it, by its stem), then by sha256 when the
workflow gives one, and for a reference without a folder by file name anywhere. What is
missing is either downloadable (the workflow names a URL) or has no known source.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Literal

from comfy_tui.core.workflow import ModelRef, is_model_name
from comfy_tui.services.library.folders import canonical_folder
from comfy_tui.store.models_index import ModelRecord

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

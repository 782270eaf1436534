"""TrashService: one view of everything comfy-tui put aside instead of deleting.

Models removed with `models rm` sit in the library's trash (`library/.trash/`, or an extra
root's `.trash/`); a removed version's `user/`, `output/` and `input/` and a removed node's
checkout sit in the data directory's `trash/` (see trashbin.py). Both are listed, restored and
emptied here, for `comfy-tui trash` and the TUI's Trash view. Entries older than
`trash_keep_days` are deleted by `prune`, which runs whenever the trash is listed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from comfy_tui.core.retention import expired
from comfy_tui.errors import NotFoundError
from comfy_tui.paths import DataPaths
from comfy_tui.services import trashbin
from comfy_tui.services.library import trash as model_trash
from comfy_tui.services.library.library_lock import LibraryLock
from comfy_tui.services.library.service import LibraryService
from comfy_tui.settings import Settings

__all__ = ["TrashItem", "TrashService"]


@dataclass(frozen=True)
class TrashItem:
    """One entry of the trash, whatever put it there."""

    id: str
    kind: str  # "model", "version" or "node"
    name: str  # a model's path in its folder, a version's tag, a node's name
    detail: str  # what it holds: "user, output" / the library root
    size: int
    removed_at: float

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "name": self.name,
            "detail": self.detail,
            "size_bytes": self.size,
            "removed_at": self.removed_at,
        }


def _model_item(entry: model_trash.TrashEntry) -> TrashItem:
    return TrashItem(entry.id, "model", entry.relpath, entry.root, entry.size, entry.removed_at)


def _bin_item(entry: trashbin.BinEntry) -> TrashItem:
    return TrashItem(
        entry.id, entry.kind, entry.name, ", ".join(entry.parts), entry.size, entry.removed_at
    )


class TrashService:
    def __init__(
        self,
        settings: Settings,
        paths: DataPaths,
        library: LibraryService,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.paths = paths
        self.library = library
        self.clock = clock

    async def _entries(
        self,
    ) -> tuple[list[model_trash.TrashEntry], list[trashbin.BinEntry]]:
        models = await self.library.trash()
        bins = await asyncio.to_thread(trashbin.list_entries, self.paths)
        return models, bins

    async def items(self) -> list[TrashItem]:
        """Everything in the trash, newest first (old entries are pruned first)."""
        await self.prune()
        models, bins = await self._entries()
        found = [_model_item(m) for m in models] + [_bin_item(b) for b in bins]
        return sorted(found, key=lambda i: (-i.removed_at, i.id))

    async def restore(self, item_id: str) -> str:
        """Put an entry back; one line saying where it went."""
        models, bins = await self._entries()
        if any(m.id == item_id for m in models):
            relpath = await self.library.restore(item_id)
            return f"restored the model {relpath}"
        for entry in bins:
            if entry.id == item_id:
                return await asyncio.to_thread(trashbin.restore_entry, self.paths, entry)
        raise NotFoundError(
            f"nothing in the trash with id {item_id!r} (see 'comfy-tui trash list')"
        )

    async def empty(self, *, expired_only: bool = False) -> list[TrashItem]:
        """Delete entries for good: all, or those past `trash_keep_days` (`expired_only`)."""
        models, bins = await self._entries()
        if expired_only:
            keep, now = self.settings.trash_keep_days, self.clock()
            models, bins = expired(models, keep, now), expired(bins, keep, now)
        if models:
            lock = LibraryLock(self.paths.library_lock())
            try:
                async for _ in lock.acquire("empty the trash"):
                    pass
                for entry in models:
                    await asyncio.to_thread(model_trash.delete_entry, entry)
            finally:
                lock.release()
        for bin_entry in bins:
            await asyncio.to_thread(trashbin.delete_entry, bin_entry)
        return [_model_item(m) for m in models] + [_bin_item(b) for b in bins]

    async def prune(self) -> list[TrashItem]:
        """Delete what is older than the `trash_keep_days` setting (0 keeps everything)."""
        if self.settings.trash_keep_days <= 0:
            return []
        return await self.empty(expired_only=True)

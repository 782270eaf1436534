"""The persisted queue: `metadata/downloads.json`, one entry per download, written atomically.

Each change rewrites only its own entry under the file's lock (`update_json`), so a CLI download
and the TUI's queue can share the file. `DownloadItem` is also the frozen snapshot the queue
publishes to the UI and the CLI.

URLs are stored redacted (`core.url_secrets`): a link with ``?token=`` or a signature keeps its
full form only in memory and, while the download is unfinished, in the 0600 `url_vault`.
An entry whose full URL was lost cannot resume: `needs_url` says so and the user adds it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from comfy_tui.core.url_secrets import MASK, has_url_secret, redact_url
from comfy_tui.services.downloads.data import DownloadRequest, Kind, State
from comfy_tui.services.downloads.url_vault import keep_url, read_urls
from comfy_tui.store.jsonfile import read_json, update_json

SCHEMA = 1
_EMPTY: dict[str, Any] = {"items": []}


@dataclass(frozen=True)
class DownloadItem:
    """One entry of the queue, as the UI shows it. `speed` (bytes/s) and `eta` (s) are live only."""

    id: str
    request: DownloadRequest
    state: State = State.QUEUED
    kind: Kind | None = None
    key: str | None = None
    folder: str | None = None
    filename: str | None = None
    bytes_done: int = 0
    bytes_total: int | None = None
    speed: float | None = field(default=None, compare=False)
    eta: float | None = field(default=None, compare=False)
    error: str | None = None
    path: str | None = None
    sha256: str | None = None
    commit: str | None = None
    added_at: float = 0.0
    finished_at: float | None = None
    removed: bool = field(default=False, compare=False)
    """Set only on the last snapshot `updates()` sends for an item `remove()` dropped."""

    @property
    def fraction(self) -> float:
        if not self.bytes_total:
            return 1.0 if self.state is State.DONE else 0.0
        return min(1.0, self.bytes_done / self.bytes_total)

    @property
    def label(self) -> str:
        return self.filename or self.request.file or redact_url(self.request.source)

    @property
    def needs_url(self) -> bool:
        """The stored URL is redacted and its full form is gone: it cannot be fetched."""
        source = self.request.source
        return MASK in source and redact_url(source) == source

    def with_(self, **changes: Any) -> DownloadItem:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        request = self.request.to_dict()
        request["source"] = redact_url(self.request.source)
        doc: dict[str, Any] = {
            "id": self.id,
            "request": request,
            "state": str(self.state),
            "kind": str(self.kind) if self.kind else None,
        }
        for name in (
            "key", "folder", "filename", "bytes_done", "bytes_total", "error", "path",
            "sha256", "commit", "added_at", "finished_at",
        ):  # fmt: skip
            doc[name] = getattr(self, name)
        return doc

    @classmethod
    def from_dict(cls, doc: dict[str, Any]) -> DownloadItem | None:
        """Parse one stored entry; None for an entry this build cannot read (it is skipped)."""
        try:
            state = State(doc["state"])
            kind = Kind(doc["kind"]) if doc.get("kind") else None
            request = DownloadRequest.from_dict(doc["request"])
            item_id = str(doc["id"])
        except (KeyError, ValueError, TypeError, AttributeError):
            return None

        def opt_str(name: str) -> str | None:
            value = doc.get(name)
            return value if isinstance(value, str) else None

        def opt_num(name: str) -> Any:
            value = doc.get(name)
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            return value if ok else None

        return cls(
            id=item_id,
            request=request,
            state=state,
            kind=kind,
            key=opt_str("key"),
            folder=opt_str("folder"),
            filename=opt_str("filename"),
            bytes_done=int(opt_num("bytes_done") or 0),
            bytes_total=opt_num("bytes_total"),
            error=opt_str("error"),
            path=opt_str("path"),
            sha256=opt_str("sha256"),
            commit=opt_str("commit"),
            added_at=float(opt_num("added_at") or 0.0),
            finished_at=opt_num("finished_at"),
        )


_UNFINISHED = frozenset({State.QUEUED, State.ACTIVE, State.PAUSED, State.FAILED})


def _with_full_url(item: DownloadItem, urls: dict[str, str]) -> DownloadItem:
    full = urls.get(item.id)
    if full is None or redact_url(full) != item.request.source:
        return item
    return item.with_(request=DownloadRequest(**{**item.request.to_dict(), "source": full}))


def load_items(path: Path) -> list[DownloadItem]:
    """Every readable entry, oldest first, full URLs restored from the vault (blocking)."""
    doc = read_json(path, schema=SCHEMA, default=_EMPTY)
    raw = doc.get("items")
    entries = raw if isinstance(raw, list) else []
    items = [DownloadItem.from_dict(e) for e in entries if isinstance(e, dict)]
    urls = read_urls(path)
    found = (_with_full_url(i, urls) for i in items if i is not None)
    return sorted(found, key=lambda i: i.added_at)


_HISTORY = frozenset({"done", "cancelled"})


def _prune_history(entries: list[dict[str, Any]], keep: int) -> list[dict[str, Any]]:
    """Only the newest `keep` finished (done or cancelled) entries stay; others all stay."""
    finished = [e for e in entries if e.get("state") in _HISTORY]
    if len(finished) <= keep:
        return entries

    def when(e: dict[str, Any]) -> float:
        value = e.get("finished_at") or e.get("added_at") or 0.0
        return float(value) if isinstance(value, int | float) else 0.0

    newest = sorted(finished, key=when, reverse=True)[:keep]
    kept = {id(e) for e in newest}
    return [e for e in entries if e.get("state") not in _HISTORY or id(e) in kept]


def save_item(path: Path, item: DownloadItem, *, history_keep: int | None = None) -> None:
    """Insert or replace the entry with `item.id` (blocking); its full URL goes to the vault
    while it is unfinished, and leaves the vault once it is not. With `history_keep`, only
    that many finished entries are remembered (the newest)."""
    source = item.request.source
    secret = has_url_secret(source) and not item.needs_url and item.state in _UNFINISHED
    keep_url(path, item.id, source if secret else None)
    entry = item.to_dict()

    def change(doc: dict[str, Any]) -> dict[str, Any]:
        raw = doc.get("items")
        entries = [e for e in raw if isinstance(e, dict)] if isinstance(raw, list) else []
        for n, old in enumerate(entries):
            if old.get("id") == item.id:
                entries[n] = entry
                break
        else:
            entries.append(entry)
        if history_keep is not None:
            entries = _prune_history(entries, history_keep)
        return {**doc, "items": entries}

    update_json(path, change, schema=SCHEMA, default=_EMPTY)


def delete_item(path: Path, item_id: str) -> None:
    """Drop the entry with `item_id` (blocking)."""
    keep_url(path, item_id, None)

    def change(doc: dict[str, Any]) -> dict[str, Any]:
        raw = doc.get("items")
        entries = raw if isinstance(raw, list) else []
        kept = [e for e in entries if not (isinstance(e, dict) and e.get("id") == item_id)]
        return {**doc, "items": kept}

    update_json(path, change, schema=SCHEMA, default=_EMPTY)

"""What CivitAI said about a file, kept in `library.db` by sha256 (the `civitai` table).

Keyed by content, not path: a moved or re-imported copy keeps its answer, and "CivitAI does
not know this file" is remembered too (`found` False), so it is not asked again unasked. The
`civitai_fts` index over the names, base model and trigger words is kept by triggers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any

import aiosqlite

__all__ = ["CivitaiInfo", "found_civitai", "get_civitai", "put_civitai"]


@dataclass(frozen=True)
class CivitaiInfo:
    sha256: str
    found: bool
    looked_up_at: float
    model_id: int | None = None
    version_id: int | None = None
    model_name: str = ""
    version_name: str = ""
    model_type: str = ""
    base_model: str = ""
    trained_words: tuple[str, ...] = ()

    def page(self, api_base: str) -> str | None:
        """The model's page on CivitAI (the API's site)."""
        if self.model_id is None:
            return None
        page = f"{api_base.rstrip('/')}/models/{self.model_id}"
        return page + (f"?modelVersionId={self.version_id}" if self.version_id else "")

    def to_json(self, api_base: str) -> dict[str, Any]:
        doc = {f.name: getattr(self, f.name) for f in fields(self)}
        doc["trained_words"] = list(self.trained_words)
        doc["page"] = self.page(api_base)
        return doc


_COLUMNS = tuple(f.name for f in fields(CivitaiInfo))


_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM civitai"  # noqa: S608 - constant names


async def get_civitai(db: aiosqlite.Connection, sha256: str) -> CivitaiInfo | None:
    async with db.execute(_SELECT + " WHERE sha256 = ?", (sha256,)) as cursor:
        row = await cursor.fetchone()
    return None if row is None else _from_row(row)


async def found_civitai(db: aiosqlite.Connection) -> dict[str, CivitaiInfo]:
    """sha256 → answer, for every file CivitAI knows (the Models screen's detail pane)."""
    async with db.execute(_SELECT + " WHERE found = 1") as cursor:
        rows = await cursor.fetchall()
    return {info.sha256: info for info in map(_from_row, rows)}


def _from_row(row: Any) -> CivitaiInfo:
    values = dict(zip(_COLUMNS, row, strict=True))
    try:
        words = json.loads(values["trained_words"] or "[]")
    except ValueError:
        words = []
    values["trained_words"] = tuple(w for w in words if isinstance(w, str))
    values["found"] = bool(values["found"])
    return CivitaiInfo(**values)


async def put_civitai(db: aiosqlite.Connection, info: CivitaiInfo) -> None:
    """Insert or replace the answer for `info.sha256` (an update, so the FTS triggers run);
    the caller commits."""
    values = [getattr(info, c) for c in _COLUMNS]
    values[_COLUMNS.index("trained_words")] = json.dumps(list(info.trained_words))
    values[_COLUMNS.index("found")] = int(info.found)
    updates = ", ".join(f"{c} = excluded.{c}" for c in _COLUMNS if c != "sha256")
    sql = (  # column names are constants of this module, values are bound
        f"INSERT INTO civitai ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)}) "  # noqa: S608
        f"ON CONFLICT (sha256) DO UPDATE SET {updates}"
    )
    await db.execute(sql, values)

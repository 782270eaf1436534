"""Turn what the user types into a safe search: every word must match, as you type.

A word matches a model when the FTS5 index has a token starting with it (name, folder,
architecture, tags; `sd_xl_base` is indexed as `sd xl base`), when the file name contains it
(`sha` finds `dreamshaper`), or when what CivitAI said about the file has it (model and version
name, base model, trigger words: the `civitai_fts` index, by sha256). Words are cut on
anything that is not a letter or digit, so FTS5 operators and LIKE wildcards typed by the user
are plain text here.
"""

from __future__ import annotations

import re

__all__ = ["fts_query", "search_filter", "search_words"]

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_WORDS = 12


def search_words(text: str | None) -> list[str]:
    return _WORD.findall(text or "")[:MAX_WORDS]


def fts_query(text: str | None) -> str | None:
    """`"sd"* AND "xl"*` for "sd_xl"; None when there is nothing to search for."""
    words = search_words(text)
    if not words:
        return None
    return " AND ".join(f'"{w}"*' for w in words)


_CLAUSE = (
    "(id IN (SELECT rowid FROM models_fts WHERE models_fts MATCH ?) OR name LIKE ?"
    " OR sha256 IN (SELECT sha256 FROM civitai WHERE rowid IN"
    " (SELECT rowid FROM civitai_fts WHERE civitai_fts MATCH ?)))"
)


def search_filter(text: str | None) -> tuple[str, list[str]] | None:
    """An SQL condition on `models` and its parameters; None matches everything."""
    words = search_words(text)
    if not words:
        return None
    params: list[str] = []
    for w in words:
        params += [f'"{w}"*', f"%{w}%", f'"{w}"*']
    return " AND ".join(_CLAUSE for _ in words), params

"""Choosing a command in Textual's command palette the way a user does: type, wait for the
hit (the palette searches in a worker), press enter."""

from __future__ import annotations

from typing import Any

from textual.command import CommandList, CommandPalette

from tests.waiting import until


async def choose(pilot: Any, query: str, first_hit: str) -> None:
    """Open the palette, type ``query``, wait until the first hit's prompt starts with
    ``first_hit`` and choose it."""
    await pilot.press("ctrl+p")
    await until(pilot, lambda: isinstance(pilot.app.screen, CommandPalette), "the palette")
    await pilot.press(*query)
    hits = pilot.app.screen.query_one(CommandList)

    def first() -> str:
        return str(hits.get_option_at_index(0).prompt) if hits.option_count else ""

    await until(pilot, lambda: first().startswith(first_hit), f"the hit {first_hit!r}")
    await pilot.press("enter")

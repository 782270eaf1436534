"""The command palette provider: every action reachable by a key, findable by name."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from comfy_tui.ui.keys import GLOBAL_KEYS, Key


class ComfyCommands(Provider):
    """Offers the global actions plus the actions of the screen the palette was opened over."""

    def _keys(self) -> Iterator[tuple[Key, str]]:
        for key in GLOBAL_KEYS:
            if key.id != "quit-now":
                yield key, "app"
        for key in getattr(self.screen, "KEYS", ()):
            yield key, "screen"

    def _title(self, key: Key) -> str:
        return f"{key.description}: {key.help}" if key.description not in key.help else key.help

    async def _run(self, key: Key, namespace: str) -> None:
        target = self.app if namespace == "app" else self.screen
        await target.run_action(key.action)

    async def discover(self) -> Hits:
        for key, namespace in self._keys():
            yield DiscoveryHit(self._title(key), partial(self._run, key, namespace), help=key.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for key, namespace in self._keys():
            title = self._title(key)
            score = matcher.match(title)
            if score > 0:
                yield Hit(
                    score,
                    matcher.highlight(title),
                    partial(self._run, key, namespace),
                    help=key.help,
                )

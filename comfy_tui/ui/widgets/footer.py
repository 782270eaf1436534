"""The footer: the screen's keys on the left, `? keys`, `q quit` and `^p` pinned on the right.

Textual's own footer lists every shown binding in one row and cuts the row at the terminal's
edge, so at 80 columns the global keys (help, quit) were never visible. Here the pinned keys
never move; the screen's keys fill what is left (compact labels) and the mode keys read as one
`1-5 screens` group. Whatever is cut is listed by `?`. While a dialog is open over the screen,
the footer lists the dialog's keys, not the screen's (those wait until it closes).
"""

from __future__ import annotations

from collections import defaultdict

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import HorizontalGroup
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

PINNED: dict[str, str] = {"app.help": "keys", "app.request_quit": "quit"}
"""Actions always shown at the right edge, with their short labels."""

MODE_PREFIX = "app.switch_mode("


class PinnedKeys(HorizontalGroup):
    """The right-hand group of keys that is never cut."""

    DEFAULT_CSS = """
    PinnedKeys {
        dock: right;
        width: auto;
        height: 1;
        background: $footer-background;
        border-left: vkey $foreground 20%;
        padding-left: 1;
    }
    PinnedKeys FooterKey { margin-right: 1; }
    """


class ComfyFooter(Footer):
    """A compact footer whose quit and help keys are always visible."""

    def __init__(self) -> None:
        super().__init__(compact=True)

    def compose(self) -> ComposeResult:
        if not self._bindings_ready:
            return
        top = self.app.screen
        # under a dialog only its keys act: list those (the screen's would not answer); the
        # pinned keys come from the screen's chain, which has the App's keys
        shown = top if isinstance(top, ModalScreen) and top is not self.screen else self.screen
        by_action = self._by_action(shown)
        modes = [a for a in by_action if a.startswith(MODE_PREFIX)]
        for action, entries in by_action.items():
            if action in PINNED or action in modes:
                continue
            binding, enabled, tooltip = entries[0]
            yield self._key(binding, binding.description, enabled, tooltip)
        if modes:
            first = by_action[modes[0]][0][0]
            last = by_action[modes[-1]][0][0]
            keys = f"{self.app.get_key_display(first)}-{self.app.get_key_display(last)}"
            yield FooterKey(first.key, keys, "screens", first.action, tooltip="Switch screen")
        active = self.screen.active_bindings
        pinned = self._by_action(self.screen) if shown is not self.screen else by_action
        with PinnedKeys():
            for action, label in PINNED.items():
                if action in pinned:
                    entries = sorted(pinned[action], key=lambda e: not e[0].show)
                    binding, enabled, tooltip = entries[0]  # `q`, not `ctrl+q`
                    yield self._key(binding, label, enabled, tooltip)
            palette = active.get(self.app.COMMAND_PALETTE_BINDING)
            if self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE and palette:
                _, binding, enabled, tooltip = palette
                yield self._key(binding, "", enabled, tooltip or binding.description)

    @staticmethod
    def _by_action(screen: Screen[object]) -> dict[str, list[tuple[Binding, bool, str]]]:
        """The shown bindings (and the pinned ones) of `screen`'s chain, by action."""
        by_action: defaultdict[str, list[tuple[Binding, bool, str]]] = defaultdict(list)
        for _, binding, enabled, tooltip in screen.active_bindings.values():
            if binding.show or binding.action in PINNED:
                by_action[binding.action].append((binding, enabled, tooltip))
        return by_action

    def _key(self, binding: Binding, label: str, enabled: bool, tooltip: str) -> FooterKey:
        key = FooterKey(
            binding.key,
            self.app.get_key_display(binding),
            label,
            binding.action,
            disabled=not enabled,
            tooltip=tooltip or binding.description,
        )
        return key.data_bind(compact=Footer.compact)

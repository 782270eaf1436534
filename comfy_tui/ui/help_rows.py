"""The help list (`?`, F1): every key that acts on the screen or dialog showing, with its help
line, ranked as the screen's `KEYS` table, then the global keys, then Textual's own.
"""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen

from comfy_tui.ui.dialogs.help import HelpRow
from comfy_tui.ui.keys import GLOBAL_KEYS, MODAL_BLOCKED


def help_rows(app: App[Any]) -> list[HelpRow]:
    """Every key with a help line on `app`'s screen: the screen's own, then global, then
    Textual's. Over a dialog: the dialog's keys (and its fields'), and the global keys that
    still act there.

    Built from the binding chain itself, not `active_bindings` (one binding per key, and
    none that `check_action` turns off right now): a screen's own keys are all listed,
    also two on one key (escape: cancel an install, clear the filter) and one shadowing a
    widget's key (enter: details, not the table's "select")."""
    modal = isinstance(app.screen, ModalScreen)
    own = [b.id for bs in app.screen._bindings.key_to_bindings.values() for b in bs]
    order = [
        *(k.id for k in getattr(app.screen, "KEYS", ())),
        *(i for i in own if i),  # a dialog's keys (they have ids, not a KEYS table)
        *(k.id for k in GLOBAL_KEYS),
    ]
    ours = set(order)
    # a dialog's chain stops at the dialog; the App's priority keys still act over it
    pairs: list[tuple[DOMNode, str, Binding]] = [
        (namespace, key, binding)
        for namespace, bindings in app.screen._modal_binding_chain
        for key, binding in bindings
    ]
    if modal:
        pairs += [(app, key, b) for key, b in app._bindings if b.priority]
    chain = [
        (key, binding, namespace)
        for namespace, key, binding in pairs
        if not key.startswith("super+")
        and not (modal and binding.action.split("(")[0].split(".")[-1] in MODAL_BLOCKED)
    ]
    claimed = {key for key, binding, _ in chain if binding.id in ours}
    ranked: list[tuple[int, HelpRow]] = []
    seen: set[tuple[str, str]] = set()
    for key, binding, namespace in chain:
        if (key, binding.action) in seen:
            continue
        if binding.id not in ours and (
            key in claimed or app._check_action_state(binding.action, namespace) is False
        ):
            continue  # a widget's key that one of ours shadows, or that is off here
        description, help_line = _BUILTIN_HELP.get(
            binding.action, (binding.description, binding.tooltip)
        )
        if not description:
            continue
        help_line = help_line or _MOVE_HELP.get(binding.action.split(".")[-1], description)
        seen.add((key, binding.action))
        rank = order.index(binding.id) if binding.id in ours else len(order)
        ranked.append((rank, HelpRow(app.get_key_display(binding), description, help_line)))
    return [row for _, row in sorted(ranked, key=lambda pair: pair[0])]


def dialog_title(screen: Screen[Any]) -> str:
    """ "Error dialog" for ErrorScreen: the help title of a dialog without a MODE_TITLE."""
    name = type(screen).__name__.removesuffix("Screen")
    words = "".join(f" {c}" if c.isupper() else c for c in name).strip()
    return f"{words} dialog"


_MOVE_HELP: dict[str, str] = {
    "cursor_up": "Move the selection up",
    "cursor_down": "Move the selection down",
    "cursor_left": "Move the selection left",
    "cursor_right": "Move the selection right",
    "page_up": "Up one page",
    "page_down": "Down one page",
    "scroll_home": "To the first line",
    "scroll_end": "To the last line",
    "scroll_top": "To the first line",
    "scroll_bottom": "To the last line",
    "select_cursor": "Choose the selected line",
    "select": "Choose the selected line",
    "scroll_up": "Scroll up one line",
    "scroll_down": "Scroll down one line",
    "scroll_left": "Scroll left",
    "scroll_right": "Scroll right",
    "page_left": "Left one page",
    "page_right": "Right one page",
    "close": "Close this dialog",
    "cancel": "Close this dialog; nothing changes",
    "dismiss_help": "Close this list",
}
"""Help lines for the keys Textual's widgets (and dialogs) bring without one."""

_BUILTIN_HELP: dict[str, tuple[str, str]] = {
    "command_palette": ("Commands", "Open the command palette: every action by name"),
    "app.focus_next": ("Next", "Move the focus to the next widget"),
    "app.focus_previous": ("Previous", "Move the focus to the previous widget"),
    "focus_next": ("Next", "Move the focus to the next widget"),
    "focus_previous": ("Previous", "Move the focus to the previous widget"),
    "screen.copy_text": ("Copy", "Copy the selected text"),
    "copy_text": ("Copy", "Copy the selected text"),
}

"""The keymap setting's list of binding ids (textual-free) matches the TUI's key tables."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from textual.binding import Binding

import comfy_tui.ui
from comfy_tui.core.binding_ids import BINDING_IDS
from comfy_tui.ui.keys import Key


def ui_binding_ids() -> set[str]:
    """Every id of a `Key` table or a class's BINDINGS anywhere under comfy_tui.ui."""
    found: set[str] = set()
    for info in pkgutil.walk_packages(comfy_tui.ui.__path__, "comfy_tui.ui."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            for item in value if isinstance(value, tuple | list) else (value,):
                if isinstance(item, Key):
                    found.add(item.id)
            if inspect.isclass(value):
                for binding in getattr(value, "BINDINGS", None) or ():
                    if isinstance(binding, Binding) and binding.id:
                        found.add(binding.id)
    return found


def test_binding_ids_are_exactly_the_tuis() -> None:
    ids = ui_binding_ids()
    assert ids - BINDING_IDS == set(), "add these ids to comfy_tui/core/binding_ids.py"
    assert BINDING_IDS - ids == set(), "these ids have no binding any more"

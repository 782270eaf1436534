"""The folder column of the Models screen: every folder type with its file count and size."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from comfy_tui.core.units import format_bytes
from comfy_tui.store.models_index import FolderStat

__all__ = ["ALL", "FolderList"]

ALL = "*"
"""The option id of "every folder"."""


def _prompt(name: str, count: int, size: int) -> Text:
    text = Text(name, style="bold", overflow="ellipsis", no_wrap=True)
    text.append(f"\n  {count} · {format_bytes(size)}", style="dim")
    return text


class FolderList(OptionList):
    """Options: "all models" first, then each folder that holds files."""

    def show(self, stats: Sequence[FolderStat], selected: str) -> None:
        total = sum(s.count for s in stats), sum(s.size for s in stats)
        options = [Option(_prompt("all models", *total), id=ALL)]
        options += [Option(_prompt(s.folder, s.count, s.size), id=s.folder) for s in stats]
        with self.prevent(OptionList.OptionHighlighted):
            self.clear_options()
            self.add_options(options)
            ids = [o.id for o in options]
            self.highlighted = ids.index(selected) if selected in ids else 0

"""Key definitions: one table per scope feeds the bindings, the help screen and the palette."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from textual.binding import Binding, BindingType


@dataclass(frozen=True)
class Key:
    """One user-facing key: its binding id (for the keymap setting), key, action and help line."""

    id: str
    key: str
    action: str
    description: str
    help: str
    show: bool = True
    priority: bool = False

    def binding(self) -> Binding:
        return Binding(
            self.key,
            self.action,
            self.description,
            show=self.show,
            priority=self.priority,
            tooltip=self.help,
            id=self.id,
        )


def bindings(keys: Iterable[Key]) -> list[BindingType]:
    """Textual bindings for a table of keys."""
    return [k.binding() for k in keys]


MODAL_BLOCKED = frozenset({"switch_mode", "request_quit"})
"""App actions a key cannot start while a dialog (a modal screen) is open (`?` still lists
the dialog's own keys)."""

GLOBAL_KEYS: tuple[Key, ...] = (
    Key("mode-versions", "1", "app.switch_mode('versions')", "Versions", "Show installed versions"),
    Key("mode-models", "2", "app.switch_mode('models')", "Models", "Show the model library"),
    Key("mode-monitor", "3", "app.switch_mode('monitor')", "Monitor", "Show CPU, RAM, disk, GPUs"),
    Key(
        "mode-instances",
        "4",
        "app.switch_mode('instances')",
        "Instances",
        "Show launched ComfyUI instances",
    ),
    Key(
        "mode-nodes",
        "5",
        "app.switch_mode('nodes')",
        "Nodes",
        "Show shared custom nodes and snapshots",
    ),
    Key(
        "mode-fleet",
        "6",
        "app.switch_mode('fleet')",
        "Fleet",
        "Show every configured host (GPUs, instances) over SSH",
        False,  # the footer's "1-5 screens" stays; help and the palette list it
    ),
    Key(
        "help",
        "question_mark",
        "app.help",
        "Help",
        "List every key of this screen or dialog",
        True,
        True,  # over dialogs too (a text field still takes a typed `?`: see check_action)
    ),
    Key(
        "help-anywhere",
        "f1",
        "app.help_anywhere",
        "Help",
        "List every key, also while a text field has the focus",
        False,
        True,
    ),
    Key(
        "notifications",
        "N",
        "app.notifications",
        "Notifications",
        "Recent notifications: finished and failed jobs, crashes, downloads, installs",
        False,
    ),
    Key("quit", "q", "app.request_quit", "Quit", "Quit (asks first while jobs run)"),
    Key(
        "quit-now",
        "ctrl+q",
        "app.request_quit",
        "Quit",
        "Quit (asks first while jobs run)",
        False,
        True,
    ),
    Key(
        "interrupt",
        "ctrl+c",
        "app.interrupt",
        "Quit?",
        "Ask to quit (instances keep running); ctrl+c twice quits",
        False,
        True,
    ),
)

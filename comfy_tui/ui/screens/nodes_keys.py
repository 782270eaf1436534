"""The Nodes screen's keys: binding ids (for the keymap setting), keys and help lines."""

from __future__ import annotations

from comfy_tui.ui.keys import Key

NODES_KEYS: tuple[Key, ...] = (
    Key("nodes-add", "a", "add", "Add", "Add a custom node by its git URL (cloned once, shared)"),
    Key("nodes-update", "u", "update", "Update", "Fetch the selected node and fast-forward it"),
    Key(
        "nodes-pin",
        "U",
        "update(True)",
        "Pin",
        "Check out a commit or tag of the selected node, pinned (nodes update --commit)",
        show=False,
    ),
    Key(
        "nodes-enable",
        "e",
        "enable",
        "Enable",
        "Enable the selected node in a version (shows what its requirements change first)",
    ),
    Key("nodes-disable", "x", "disable", "Disable", "Disable the selected node in a version"),
    Key("nodes-remove", "d", "remove", "Remove", "Delete the selected shared node (asks)"),
    Key(
        "nodes-snapshots",
        "s",
        "snapshots",
        "Snapshots",
        "A version's snapshots: restore one, or take one now",
    ),
    Key("nodes-refresh", "r", "refresh", "Refresh", "Read the nodes and versions again", False),
)

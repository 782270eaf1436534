"""The Versions screen's keys: binding ids (for the keymap setting), keys and help lines."""

from __future__ import annotations

from comfy_tui.ui.keys import Key

VERSIONS_KEYS: tuple[Key, ...] = (
    Key("versions-install", "i", "install", "Install", "Install the selected release"),
    Key(
        "versions-install-ref",
        "I",
        "install_ref",
        "Install ref",
        "Install a branch, tag or commit by name (comfy-tui install REF --name NAME)",
        show=False,
    ),
    Key("versions-remove", "d", "remove", "Remove", "Remove the selected version (asks)"),
    Key(
        "versions-default",
        "s",
        "toggle_default",
        "Default",
        "Make the selected version the default; again clears it",
    ),
    Key(
        "versions-adopt",
        "a",
        "adopt",
        "Adopt",
        "Adopt an existing ComfyUI folder as a version (left in place)",
        show=False,
    ),
    Key(
        "versions-upgrade",
        "u",
        "upgrade",
        "Upgrade",
        "Rehearse an upgrade of the selected version with its custom nodes; then switch",
        show=False,
    ),
    Key(
        "versions-update",
        "U",
        "update",
        "Update",
        "Move the selected version to its branch's newest commit, or to a ref (comfy-tui update)",
        show=False,
    ),
    Key(
        "versions-rollback",
        "b",
        "rollback",
        "Rollback",
        "Undo the selected version's last update or switch (comfy-tui rollback)",
        show=False,
    ),
    Key(
        "versions-audit",
        "A",
        "audit",
        "Audit",
        "The selected version's packages, the node that brought each, advisories",
        show=False,
    ),
    Key(
        "versions-share-node",
        "o",
        "share_node",
        "Share node",
        "Share one of the selected version's own nodes at its commit (comfy-tui nodes adopt)",
        show=False,
    ),
    Key("versions-refresh", "r", "refresh", "Refresh", "Ask GitHub for the releases now"),
    Key(
        "versions-details",
        "enter",
        "details",
        "Details",
        "The install record and the log of the last install",
    ),
    Key("versions-filter", "slash", "filter", "Filter", "Filter by tag or name"),
    Key(
        "versions-prereleases",
        "p",
        "toggle_prereleases",
        "Prereleases",
        "Show or hide prereleases",
        show=False,
    ),
    Key("versions-cancel", "c", "cancel_install", "Cancel", "Cancel the selected install"),
    Key(
        "versions-clear-filter",
        "escape",
        "clear_filter",
        "Clear filter",
        "Clear and close the filter",
        show=False,
    ),
)

"""The Models screen's keys, in the order the footer and the help list show them: one table
feeds its bindings, the help list and the palette (the download keys are
`models_downloads.DOWNLOAD_KEYS`)."""

from __future__ import annotations

from comfy_tui.ui.keys import Key
from comfy_tui.ui.screens.models_downloads import DOWNLOAD_KEYS

MODELS_KEYS: tuple[Key, ...] = (
    Key("models-scan", "s", "scan", "Scan", "Scan the library folders for models"),
    Key("models-search", "slash", "search", "Search", "Search as you type (escape: table)"),
    Key("models-import", "i", "import", "Import", "Import a file or folder into the library"),
    Key("models-hash", "h", "hash", "Hash", "Compute the sha256 of the selected model"),
    Key(
        "models-hash-all",
        "H",
        "hash_all",
        "Hash all",
        "Hash every model without a sha256",
        show=False,
    ),
    Key("models-delete", "d", "delete", "Delete", "Move the selected model to the trash"),
    Key("models-duplicates", "D", "duplicates", "Duplicates", "Find copies to reclaim"),
    Key(
        "models-workflow",
        "w",
        "workflow",
        "Workflow",
        "Which models a workflow (.json, .png, .webp) needs; d downloads the missing ones",
        show=False,
    ),
    Key(
        "models-civitai",
        "C",
        "civitai",
        "CivitAI",
        "Ask CivitAI what the selected model is, by its sha256 (hashed first if needed)",
        show=False,
    ),
    Key(
        "models-trash",
        "t",
        "trash",
        "Trash",
        "Show the trash: restore what was removed",
        show=False,
    ),
    *DOWNLOAD_KEYS,
)

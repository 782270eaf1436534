"""Version lifecycle: install any git ref, update in place with a rollback point, rehearse an
upgrade with the user's custom nodes, switch running instances, and roll back.

`has_swaps` lives here, importing nothing, because every command asks it at start
(cli/__init__.py: an update killed mid-swap is settled by services/lifecycle/swap_journal.py).
"""

from __future__ import annotations

import os
from pathlib import Path

SWAP_PREFIX = "swap-"


def has_swaps(root: Path) -> bool:
    """True when the data dir `root` holds an update's swap journal (one directory scan)."""
    try:
        with os.scandir(root / "metadata" / "journals") as entries:
            return any(e.name.startswith(SWAP_PREFIX) and e.name.endswith(".json") for e in entries)
    except (FileNotFoundError, NotADirectoryError):
        return False

"""Install size estimates by dependency set: `metadata/size_estimates.json`.

Keyed by `disk_usage.deps_key` (requirements, torch build, Python, torch source), each entry a
`SizeEstimate` worked out from a resolution's wheel sizes (services/size_estimate.py). What an
install really took is kept apart, in `install_sizes.json` (services/disk_usage.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from comfy_tui.core.size_estimate import SizeEstimate
from comfy_tui.errors import MetadataError
from comfy_tui.paths import DataPaths
from comfy_tui.store.jsonfile import read_json, update_json

__all__ = ["load_estimate", "save_estimate"]


def _file(paths: DataPaths) -> Path:
    return paths.metadata_dir() / "size_estimates.json"


def load_estimate(paths: DataPaths, key: str) -> SizeEstimate | None:
    """The estimate stored for dependency set `key`; None when none (or unreadable)."""
    try:
        data = read_json(_file(paths), default={})
    except (OSError, ValueError, MetadataError):
        return None
    return SizeEstimate.from_json(data.get(key))


def save_estimate(paths: DataPaths, key: str, estimate: SizeEstimate) -> None:
    def change(data: dict[str, Any]) -> dict[str, Any]:
        data[key] = estimate.to_json()
        return data

    update_json(_file(paths), change, default={})

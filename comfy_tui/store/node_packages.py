"""Which custom node brought which package into a version: `metadata/node_packages/<tag>.json`.

Written after a node's packages were installed (from the plan that was applied), read by
``comfy-tui audit``. A package keeps the node that last installed or changed it; a package a
plan removed is forgotten. The version is kept too, so a package that was changed since (a
snapshot restore, a later install) is not blamed on the node.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from comfy_tui.core.node_plan import PackageChange, canonical_name
from comfy_tui.paths import DataPaths
from comfy_tui.store.jsonfile import read_json, update_json

__all__ = ["PackageOrigin", "load_origins", "record_origins"]

SCHEMA = 1


@dataclass(frozen=True)
class PackageOrigin:
    name: str
    version: str
    node: str
    at: float


def record_origins(
    paths: DataPaths, tag: str, node: str, changes: Iterable[PackageChange], now: float
) -> None:
    """Note that `node` installed (or removed) the packages of `changes` in `tag`."""
    changes = list(changes)

    def apply(doc: dict[str, Any]) -> dict[str, Any]:
        packages = dict(doc.get("packages", {}))
        for change in changes:
            key = canonical_name(change.name)
            if change.new:
                packages[key] = {
                    "name": change.name,
                    "version": change.new,
                    "node": node,
                    "at": now,
                }
            else:
                packages.pop(key, None)
        return {"packages": packages}

    update_json(paths.node_packages(tag), apply, schema=SCHEMA, default={"packages": {}})


def load_origins(paths: DataPaths, tag: str) -> dict[str, PackageOrigin]:
    """Canonical package name → the node that brought it (empty when nothing is recorded)."""
    doc = read_json(paths.node_packages(tag), schema=SCHEMA, default={"packages": {}})
    out: dict[str, PackageOrigin] = {}
    for key, entry in doc.get("packages", {}).items():
        if isinstance(entry, dict):
            out[key] = PackageOrigin(
                str(entry.get("name", key)),
                str(entry.get("version", "")),
                str(entry.get("node", "")),
                float(entry.get("at", 0.0)),
            )
    return out

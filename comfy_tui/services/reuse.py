"""What a new version can take from installed ones instead of measuring it again.

uv hardlinks installed files from its cache, so two versions whose torch is the same inode hold
the same torch build (no need to import it again to ask), and two venvs with the same set of
``*.dist-info`` folders hold the same packages (a quick test that passed with them passes the
package half of the smoke test for the other). Blocking: call in a thread.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from comfy_tui.store.version_records import VersionRecord

__all__ = ["Twins", "dist_set", "find_twins"]

QUICK_TESTED = "quick test passed"


def _sites(venv: Path) -> list[Path]:
    return sorted(venv.glob("lib/python*/site-packages"))


def dist_set(venv: Path) -> frozenset[str]:
    """The names of the venv's ``*.dist-info`` folders (name and version of every package)."""
    names: set[str] = set()
    for site in _sites(venv):
        names.update(p.name for p in site.glob("*.dist-info"))
    return frozenset(names)


def _torch_file(venv: Path) -> Path | None:
    for site in _sites(venv):
        candidate = site / "torch" / "__init__.py"
        if candidate.is_file():
            return candidate
    return None


@dataclass(frozen=True)
class Twins:
    """`torch`: a version with the very same torch files (and a known build); `packages`: a
    quick-tested version with exactly the same packages."""

    torch: VersionRecord | None = None
    packages: VersionRecord | None = None


def find_twins(venv: Path, records: Iterable[VersionRecord]) -> Twins:
    """Installed versions the new `venv` shares its torch or its whole package set with."""
    mine_torch = _torch_file(venv)
    mine_set: frozenset[str] | None = None
    torch_twin = packages_twin = None
    for record in records:
        other = Path(record.python).parent.parent
        if torch_twin is None and mine_torch is not None and record.torch_build:
            theirs = _torch_file(other)
            try:
                if theirs is not None and os.path.samefile(mine_torch, theirs):
                    torch_twin = record
            except OSError:
                pass
        if packages_twin is None and record.smoke == QUICK_TESTED:
            if mine_set is None:
                mine_set = dist_set(venv)
            if dist_set(other) == mine_set:
                packages_twin = record
    return Twins(torch_twin, packages_twin)

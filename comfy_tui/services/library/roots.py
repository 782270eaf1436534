"""Which folders the library indexes: `library/models`, then `settings.library_roots`.

A plain function of the settings and the paths (no service, no event loop), so the CLI's scan
asks it without building the library service.
"""

from __future__ import annotations

import os
from pathlib import Path

from comfy_tui.paths import DataPaths
from comfy_tui.settings import Settings

__all__ = ["library_roots"]


def _nested(a: str, b: str) -> bool:
    return a == b or a.startswith(b + os.sep) or b.startswith(a + os.sep)


def library_roots(settings: Settings, paths: DataPaths) -> list[Path]:
    """The main library root first, then the extra roots from the settings; a root inside
    another one (or holding one) is left out, so no file is indexed twice."""
    chosen: list[Path] = []
    reals: list[str] = []
    for root in (paths.library_models(), *settings.library_roots):
        real = os.path.realpath(root)
        if any(_nested(real, other) for other in reals):
            continue
        chosen.append(root)
        reals.append(real)
    return chosen

"""One row of the bench table (`python -m bench`): a measurement, its anchor, the ratio, the goal.

Every bench module that takes part has `rows(quick) -> list[Row]`; `bench/__main__.py` prints
them as one table. The load average is taken when the row is made: the machine is shared, so
each number says how busy it was.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def load_now() -> float:
    """The 1-minute load average."""
    return os.getloadavg()[0]


@dataclass(frozen=True)
class Row:
    what: str
    ours: str
    anchor: str
    result: str
    goal: str
    ok: bool | None
    """``None``: a row shown for information, with no goal of its own."""
    load: float = field(default_factory=load_now)


HEADER = ("what", "comfy-tui", "anchor", "result", "goal", "ok", "load")


def _ok(ok: bool | None) -> str:
    return "-" if ok is None else "yes" if ok else "NO"


def render(rows: list[Row]) -> str:
    """The rows as an aligned text table."""
    cells = [HEADER] + [
        (r.what, r.ours, r.anchor, r.result, r.goal, _ok(r.ok), f"{r.load:.1f}") for r in rows
    ]
    widths = [max(len(row[i]) for row in cells) for i in range(len(HEADER))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in cells]  # fmt: skip
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)

"""Service events are frozen and checked."""

from __future__ import annotations

import pytest

from comfy_tui.events import Finished, LogLine, Progress


def test_events_are_frozen() -> None:
    p = Progress("clone", 0.5, bytes_done=10, bytes_total=20, detail="objects")
    with pytest.raises(AttributeError):
        p.fraction = 0.7  # type: ignore[misc]
    assert LogLine("x", source="git").source == "git"
    assert Finished("v0.3.77").detail == "v0.3.77"


@pytest.mark.parametrize("fraction", [-0.1, 1.01, float("nan")])
def test_progress_fraction_is_bounded(fraction: float) -> None:
    with pytest.raises(ValueError):
        Progress("x", fraction)

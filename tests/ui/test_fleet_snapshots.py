"""SVG snapshots of the Fleet screen (fixed host states, no SSH) at 80x24 and 120x40."""

from __future__ import annotations

from typing import Any

import pytest

from comfy_tui.ui.screens.fleet import FleetScreen
from tests.ui.app_factory import LARGE, SMALL
from tests.ui.fleet_lab import fixed_app
from tests.waiting import until

SIZES = {"80x24": SMALL, "120x40": LARGE}


async def show_fleet(pilot: Any) -> None:
    await pilot.press("6")

    def checked() -> bool:
        screen = pilot.app.screen
        states = screen.states.values() if isinstance(screen, FleetScreen) else ()
        return isinstance(screen, FleetScreen) and all(s.state != "checking" for s in states)

    await until(pilot, checked, "every host checked")


@pytest.mark.parametrize("size", SIZES)
def test_fleet_screen(snap_compare: Any, size: str) -> None:
    assert snap_compare(fixed_app(), run_before=show_fleet, terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_fleet_refused_host_selected(snap_compare: Any, size: str) -> None:
    async def select(pilot: Any) -> None:
        await show_fleet(pilot)
        await pilot.press("down", "down")
        await pilot.pause()

    assert snap_compare(fixed_app(), run_before=select, terminal_size=SIZES[size])

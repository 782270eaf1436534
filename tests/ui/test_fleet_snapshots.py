"""SVG snapshots of the Fleet screen (fixed host states, no SSH) at 80x24 and 120x40."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Label

from comfy_tui.ui.screens.fleet import FleetScreen
from comfy_tui.ui.screens.fleet_log import FleetLogScreen
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


@pytest.mark.parametrize("size", SIZES)
def test_fleet_log(snap_compare: Any, size: str) -> None:
    """The remote log dialog (`g` on a host, here opened for its first instance)."""

    async def open_log(pilot: Any) -> None:
        await show_fleet(pilot)
        app = pilot.app
        app.push_screen(FleetLogScreen(app.services.fleet, "h100-a", "c4a1f0"))
        await until(pilot, lambda: isinstance(app.screen, FleetLogScreen), "the log dialog")
        status = app.screen.query_one("#fleet-log-status", Label)
        await until(pilot, lambda: str(status.render()).startswith("last "), "the log")

    assert snap_compare(fixed_app(), run_before=open_log, terminal_size=SIZES[size])

"""SVG snapshots of the Nodes screen at 80x24 and 120x40 (under snapshots/ui/).

States: shared nodes with the versions that enable them and the versions' own nodes; no nodes
at all; the review of what enabling a node changes; a torch change asking to be forced; a
version's snapshots. Fixed data, fixed times, no real paths.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from comfy_tui.ui.widgets.node_table import NodeTable
from tests.ui.app_factory import LARGE, SMALL, make_test_app
from tests.ui.nodes_lab import TORCH_PLAN, nodes_app, settle, write_snapshots

SIZES = {"80x24": SMALL, "120x40": LARGE}


async def show_nodes(pilot: Pilot[Any]) -> None:
    await pilot.press("5")
    await settle(pilot)


async def select(pilot: Pilot[Any], name: str) -> None:
    await show_nodes(pilot)
    table = pilot.app.screen.query_one(NodeTable)
    table.move_cursor(row=table.get_row_index(name))
    await pilot.pause()


async def open_review(pilot: Pilot[Any]) -> None:
    await select(pilot, "ComfyUI-KJNodes")
    await pilot.press("e")  # two versions: the picker opens
    await pilot.pause()
    await pilot.press("enter")
    for _ in range(6):
        await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_shared_nodes_and_own_nodes(snap_compare: Any, data_dir: Path, size: str) -> None:
    assert snap_compare(nodes_app(data_dir), run_before=show_nodes, terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_no_nodes_yet(snap_compare: Any, data_dir: Path, size: str) -> None:
    app = make_test_app(data_dir)
    assert snap_compare(app, run_before=show_nodes, terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_review_before_enabling(snap_compare: Any, data_dir: Path, size: str) -> None:
    assert snap_compare(nodes_app(data_dir), run_before=open_review, terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_a_torch_change_must_be_forced(snap_compare: Any, data_dir: Path, size: str) -> None:
    app = nodes_app(data_dir, TORCH_PLAN)
    assert snap_compare(app, run_before=open_review, terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_snapshots_of_a_version(snap_compare: Any, data_dir: Path, size: str) -> None:
    write_snapshots(data_dir)

    async def open_snapshots(pilot: Pilot[Any]) -> None:
        await select(pilot, "ComfyUI-Impact-Pack")
        await pilot.press("s")  # the picker lists the selected node's first version first
        await pilot.pause()
        await pilot.press("enter")
        for _ in range(6):
            await pilot.pause()

    assert snap_compare(nodes_app(data_dir), run_before=open_snapshots, terminal_size=SIZES[size])

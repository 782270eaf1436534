"""The Instances screen follows a running job live (node, step, queue) and a finished job
reaches the toast and the notifications list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import DataTable

from comfy_tui.services.instances.health import base_url
from comfy_tui.services.jobs.api import queue_prompt
from comfy_tui.ui.dialogs.notifications import NotificationsScreen
from comfy_tui.ui.screens.instances import InstancesScreen
from tests.fakes.instance_lab import stop_everything
from tests.fakes.workflows import txt2img
from tests.ui.app_factory import LARGE
from tests.ui.instances_lab import real_app
from tests.waiting import until


@pytest.fixture
async def data_dir(tmp_path: Path) -> AsyncIterator[Path]:
    root = tmp_path / "data"
    yield root
    await stop_everything(root)


def job_cell(app: Any) -> str:
    table = app.screen.query_one(DataTable)
    return str(table.get_cell_at((0, 6))) if table.row_count else ""


@pytest.mark.slow
async def test_a_running_job_shows_node_step_and_queue(data_dir: Path, tmp_path: Path) -> None:
    app = real_app(data_dir, poll_interval=0.2)
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("4")
        assert isinstance(app.screen, InstancesScreen)
        await pilot.press("l")
        await pilot.pause()
        await pilot.click("#launch-go")
        await until(pilot, lambda: isinstance(app.screen, InstancesScreen))

        def connected() -> bool:
            views = app.services.instances.last_views
            state = app.services.jobs.state(views[0].id) if views else None
            return state is not None and state.connected and views[0].state == "running"

        await until(pilot, connected)
        record = app.services.instances.last_views[0].record
        hold = tmp_path / "go"
        url = base_url(record)
        await queue_prompt(url, txt2img(steps=30, hold_file=str(hold)))
        await queue_prompt(url, txt2img(steps=1))
        await queue_prompt(url, txt2img(steps=1))
        await until(pilot, lambda: "KSampler 15/30 · 2 queued" in job_cell(app))
        assert "━" in job_cell(app)
        detail = str(app.screen.query_one("#instances-detail").render())
        assert "Job     KSampler 15/30 · prompt" in detail
        hold.touch()
        notifier = app.services.notifier
        assert notifier is not None
        await until(pilot, lambda: len(notifier.recent) == 3)  # all three prompts finished
        await until(pilot, lambda: job_cell(app).startswith("done in "))
        assert any("Job finished" in str(n.title) for n in app._notifications)
        await pilot.press("N")
        assert isinstance(app.screen, NotificationsScreen)
        table = app.screen.query_one(DataTable)
        assert table.row_count == 3, [(n.kind, n.body) for n in notifier.recent]
        assert "Job finished on v0.3.77" in str(table.get_cell_at((0, 1)))
        await pilot.press("escape")
        assert isinstance(app.screen, InstancesScreen)

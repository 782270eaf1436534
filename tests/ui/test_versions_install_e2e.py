"""The Versions screen with the real services end to end: the fake upstream repo's tags are the
release list (a file:// repository has no GitHub API), `i` runs the real installer (git, uv,
the wheelhouse), `c` cancels a real install and leaves nothing behind."""

from __future__ import annotations

import pytest

from comfy_tui.events import Progress
from comfy_tui.runner import JobUpdate
from comfy_tui.settings import Settings
from comfy_tui.ui.app import ComfyTuiApp
from comfy_tui.ui.screens.versions import VersionsScreen
from comfy_tui.ui.widgets.install_panel import InstallPanel
from comfy_tui.ui.widgets.version_table import VersionTable
from tests.ui.app_factory import LARGE, make_test_app
from tests.ui.versions_lab import confirm_install, settle
from tests.waiting import until


def real_app(settings: Settings) -> ComfyTuiApp:
    overrides = {
        "comfyui_repo": settings.comfyui_repo,
        "find_links": settings.find_links,
        "python": settings.python,
    }
    return make_test_app(settings.data_dir, settings=overrides)


@pytest.mark.slow
async def test_install_from_the_screen_for_real(install_settings: Settings) -> None:
    app = real_app(install_settings)
    async with app.run_test(size=LARGE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, VersionsScreen)
        assert screen.listed is not None and screen.listed.source == "mirror"
        table = screen.query_one(VersionTable)
        assert list(table.rows_by_tag) == ["v0.5.0", "v0.4.0", "v0.3.77", "v0.3.60"]
        table.move_cursor(row=table.get_row_index("v0.3.77"))
        await pilot.pause()
        updates: list[JobUpdate] = []
        app.job_updates.subscribe(screen, updates.append)
        await pilot.press("i")
        await confirm_install(pilot)
        await until(pilot, lambda: not app.running_jobs(), "the install", timeout=240)
        await settle(pilot)
        assert not list(screen.query(InstallPanel))
        steps = [u.event.step for u in updates if isinstance(u.event, Progress)]
        assert {"clone", "venv", "torch", "requirements", "smoke"} <= set(steps)
        assert updates[-1].state == "finished"
        row = table.rows_by_tag["v0.3.77"]
        assert row.installed and row.status == "installed" and row.size
        assert any("v0.3.77 is installed" in str(n.message) for n in app._notifications)
        assert (install_settings.data_dir / "metadata" / "versions" / "v0.3.77.json").exists()


@pytest.mark.slow
async def test_cancel_from_the_screen_leaves_nothing(
    install_settings: Settings, no_leftover_children: None
) -> None:
    app = real_app(install_settings)
    data = install_settings.data_dir
    async with app.run_test(size=LARGE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, VersionsScreen)
        await pilot.press("i")
        await confirm_install(pilot)  # the first row: v0.5.0, whose smoke test hangs
        await pilot.pause()
        panel = screen.query_one(InstallPanel)
        await until(pilot, lambda: panel.fraction > 0.5, "the smoke step", timeout=240)
        await pilot.press("c")
        await until(pilot, lambda: not app.running_jobs(), "the cancel")
        await settle(pilot)
        assert not list(screen.query(InstallPanel))
        assert not screen.query_one(VersionTable).rows_by_tag["v0.5.0"].installed
    assert not (data / "metadata" / "versions" / "v0.5.0.json").exists()
    assert not [p for p in (data / "versions").iterdir() if p.name.startswith(".staging")]
    assert not (data / "versions" / "v0.5.0").exists()

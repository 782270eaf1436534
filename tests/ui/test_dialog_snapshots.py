"""SVG snapshots of the dialogs not covered by a screen's own snapshot file, at both sizes.

Files under snapshots/ui/test_dialog_snapshots/. The other dialogs (launch, install details,
review, snapshots, add download, import, duplicates, help, quit, trash) are in their screen's
file.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from comfy_tui.core.error_report import ErrorReport
from comfy_tui.core.workflow import ModelRef
from comfy_tui.services.library.needs import Need
from comfy_tui.services.notify.notice import Notice
from comfy_tui.ui.dialogs.error import ErrorScreen
from comfy_tui.ui.dialogs.notifications import NotificationsScreen
from comfy_tui.ui.dialogs.pick import PickScreen
from comfy_tui.ui.dialogs.report import ReportScreen
from comfy_tui.ui.dialogs.text_input import TextInputScreen
from comfy_tui.ui.dialogs.workflow_needs import WorkflowNeedsScreen
from comfy_tui.ui.screens.models import ModelsScreen
from tests.ui.app_factory import LARGE, SMALL, make_test_app
from tests.waiting import settle, until

SIZES = {"80x24": SMALL, "120x40": LARGE}

LAUNCH_FAILED = ErrorReport(
    "Launch v0.3.77 failed",
    "ComfyUI v0.3.77 exited during startup (exit code 2): main.py: error: unrecognized "
    "arguments: lowvram --listen 10.0.0.300",
    ("the flag list in settings.toml [launch] extra_flags = ['lowvram']",),
    "Fix the value in settings.toml (`comfy-tui config` prints its path).",
    "/home/me/.local/share/comfy-tui/logs/comfy-tui.log",
)


def show(screen: Any, *keys: str) -> Any:
    async def run_before(pilot: Any) -> None:
        pilot.app.push_screen(screen)
        await pilot.pause()
        if keys:
            await pilot.press(*keys)
            await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_error_dialog(snap_compare: Any, size: str) -> None:
    screen = ErrorScreen(LAUNCH_FAILED.title, report=LAUNCH_FAILED, save_dir=Path("/nowhere"))
    assert snap_compare(make_test_app(), run_before=show(screen), terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_text_input_keeps_a_bad_value(snap_compare: Any, size: str) -> None:
    screen = TextInputScreen(
        "Add a custom node",
        "Its git repository (https).",
        placeholder="https://github.com/owner/repo",
        validate=lambda v: f"not a git URL: {v!r} (https://host/owner/repo)",
    )
    run_before = show(screen, *"not-a-url", "enter")
    assert snap_compare(make_test_app(), run_before=run_before, terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_pick_dialog(snap_compare: Any, size: str) -> None:
    choices = [(t, t) for t in ("v0.3.77", "v0.3.76", "v0.3.75")]
    screen = PickScreen("Enable ComfyUI-Impact-Pack in which version?", choices)
    assert snap_compare(make_test_app(), run_before=show(screen), terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_ctrl_c_asks(snap_compare: Any, size: str) -> None:
    assert snap_compare(make_test_app(), press=["ctrl+c"], terminal_size=SIZES[size])


NEEDS = [
    Need(
        ModelRef("sd_xl_base_1.0.safetensors", "checkpoints", "1 CheckpointLoaderSimple"),
        "present",
        "checkpoints/sd_xl_base_1.0.safetensors",
    ),
    Need(
        ModelRef(
            "ae.safetensors",
            "vae",
            "2 VAELoader",
            url="https://huggingface.co/black-forest-labs/FLUX.1-schnell/resolve/main/ae.safetensors",
        ),
        "download",
    ),
    Need(ModelRef("pixel-art-xl.safetensors", "loras", "3 LoraLoader"), "missing"),
]


@pytest.mark.parametrize("size", SIZES)
def test_workflow_needs_dialog(snap_compare: Any, size: str) -> None:
    """Over the Models screen, where `w` opens it (its rules load with that screen)."""
    screen = WorkflowNeedsScreen("flux-dev.json", NEEDS)
    show_it = show(screen)

    async def run_before(pilot: Any) -> None:
        await pilot.press("2")
        await until(pilot, lambda: isinstance(pilot.app.screen, ModelsScreen), "Models")
        await settle(pilot, lambda w: w.group.startswith("models:"))
        await show_it(pilot)

    assert snap_compare(make_test_app(), run_before=run_before, terminal_size=SIZES[size])


@pytest.fixture
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Clock times on screen in UTC, whatever the machine's zone."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


T0 = 1_800_000_000.0

NOTICES = [
    Notice("download_done", "Download finished", "loras/pixel-art-xl.safetensors (163.0 MiB)",
           T0 - 60),
    Notice("instance_crashed", "ComfyUI crashed", "c2e4b7 (v0.3.77 on :8191) exited with code 1",
           T0 - 600, instance="c2e4b7"),
    Notice("job_done", "Install finished", "v0.3.77 installed in 1m12s", T0 - 3600),
]  # fmt: skip


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.usefixtures("utc")
def test_notifications_dialog(snap_compare: Any, size: str) -> None:
    screen = NotificationsScreen(NOTICES)
    assert snap_compare(make_test_app(), run_before=show(screen), terminal_size=SIZES[size])


@pytest.mark.parametrize("size", SIZES)
def test_help_over_a_dialog(snap_compare: Any, size: str) -> None:
    """`?` over a dialog lists that dialog's keys (and the field's), not the screen's."""
    screen = ErrorScreen(LAUNCH_FAILED.title, report=LAUNCH_FAILED, save_dir=Path("/nowhere"))
    run_before = show(screen, "question_mark")
    assert snap_compare(make_test_app(), run_before=run_before, terminal_size=SIZES[size])


AUDIT_LINES = [
    "pip-audit is not installed (pip install 'comfy-tui[audit]'): no advisory check",
    "not checked by pip-audit (direct references): comfyui-frontend-package, a-very-long-"
    "package-name-that-comes-from-a-direct-reference-and-wraps",
    "",
    "PACKAGE            VERSION      BROUGHT BY                  ADVISORIES",
    "aiohttp            3.11.18      ComfyUI",
    "opencv-python      4.11.0.86    node ComfyUI-Impact-Pack",
    "torch              2.9.1+cu128  ComfyUI",
]


@pytest.mark.parametrize("size", SIZES)
def test_report_dialog(snap_compare: Any, size: str) -> None:
    """The read-only report (`A` audit on Versions, Settings and Autostart in the palette):
    long lines wrap at the box, nothing is cut."""
    screen = ReportScreen("Packages of v0.3.77", AUDIT_LINES)
    assert snap_compare(make_test_app(), run_before=show(screen), terminal_size=SIZES[size])

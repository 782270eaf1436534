"""The Downloads panel's rows and detail line: what each state shows, in a fixed width."""

from __future__ import annotations

import pytest

from comfy_tui.services.downloads import DownloadItem, DownloadRequest, State
from comfy_tui.ui.widgets.download_list import detail_line, row_content

MIB = 1024**2


def item(state: State, **changes: object) -> DownloadItem:
    base = DownloadItem(
        "x1", DownloadRequest("https://m.example/a-rather-long-model-name-v2.safetensors"),
        state=state, folder="loras", filename="a-rather-long-model-name-v2.safetensors",
        bytes_done=25 * MIB, bytes_total=100 * MIB,
    )  # fmt: skip
    return base.with_(**changes)


@pytest.mark.parametrize("width", [40, 54, 96])
@pytest.mark.parametrize("state", list(State))
def test_a_row_fills_its_width_exactly(state: State, width: int) -> None:
    row = str(row_content(item(state, speed=3.5 * MIB, eta=21.4), width))
    assert len(row) == width


def test_an_active_row_shows_percent_speed_and_eta() -> None:
    row = str(row_content(item(State.ACTIVE, speed=3.5 * MIB, eta=21.4), 70))
    assert row.startswith("↓ a-rather-long")
    assert row.endswith(" 25%   3.5 MiB/s    21s")
    assert "━" in row


def test_other_states_say_their_state_and_long_names_are_cut() -> None:
    row = str(row_content(item(State.PAUSED), 54))
    assert row.rstrip().endswith("25%             paused") and "…" in row
    unknown = str(row_content(item(State.QUEUED, bytes_done=0, bytes_total=None), 54))
    assert "   ? " in unknown and unknown.endswith("queued")
    done = str(row_content(item(State.DONE, bytes_done=100 * MIB), 54))
    assert "100%" in done and done.endswith("done")


def test_the_detail_line_says_why_where_and_how_much() -> None:
    failed = item(State.FAILED, error="sha256 mismatch for x: the downloaded file was deleted")
    assert detail_line(failed).startswith("sha256 mismatch")
    assert detail_line(item(State.ACTIVE)) == (
        "loras/a-rather-long-model-name-v2.safetensors · 25.0 MiB of 100.0 MiB"
    )
    paused = item(State.PAUSED, error="connection reset")
    assert detail_line(paused) == "connection reset (p resumes)"
    done = item(State.DONE, bytes_done=100 * MIB)
    assert detail_line(done) == "loras/a-rather-long-model-name-v2.safetensors · 100.0 MiB"


def test_a_row_is_redrawn_only_when_what_it_shows_changes() -> None:
    from comfy_tui.ui.widgets.download_list import drawn_key

    a = item(State.ACTIVE, bytes_done=25 * MIB, speed=3.5 * MIB, eta=21.4)
    same = a.with_(bytes_done=25 * MIB + 1000)  # 1 kB later: nothing visible changed
    assert drawn_key(a, 70) == drawn_key(same, 70)
    assert drawn_key(a, 70) != drawn_key(a.with_(bytes_done=60 * MIB), 70)
    assert drawn_key(a, 70) != drawn_key(a.with_(speed=9 * MIB), 70)

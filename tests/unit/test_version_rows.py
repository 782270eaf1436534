"""The Versions table's rows, status line and details: merged, marked, filtered, honest."""

from __future__ import annotations

from comfy_tui.services.release_list import Release, ReleaseList
from comfy_tui.store.version_records import VersionRecord
from comfy_tui.ui.dialogs.version_details import detail_lines, read_tail
from comfy_tui.ui.version_rows import build_rows, empty_text, status_line

RELEASES = (
    Release("v0.45.2", published_at="2026-11-12T10:00:00Z"),
    Release("v0.4.0-rc1", published_at="2025-11-28T10:00:00Z", prerelease=True),
    Release("v0.4.0", name="Big one", published_at="2025-12-05T10:00:00Z"),
    Release("v0.3.77", published_at="2025-11-21T10:00:00Z"),
)


def record(tag: str, size: int = 0) -> VersionRecord:
    return VersionRecord(tag=tag, path=f"/v/{tag}", python="/v/python", size_bytes=size)


def test_rows_merge_releases_and_installed_versions_newest_first() -> None:
    rows = build_rows(
        RELEASES,
        [record("v0.3.77", 1_400_000_000), record("v0.5.0")],
        default="v0.3.77",
        running={"v0.3.77": 2},
        installing={"v0.45.2": 0.42},
    )
    assert [r.tag for r in rows] == ["v0.45.2", "v0.5.0", "v0.4.0", "v0.3.77"]
    by_tag = {r.tag: r for r in rows}
    assert by_tag["v0.45.2"].status == "installing 42%" and by_tag["v0.45.2"].marker == "◌"
    assert by_tag["v0.3.77"].status == "default · running 2" and by_tag["v0.3.77"].marker == "▶"
    assert by_tag["v0.3.77"].size == "1.3 GiB" and by_tag["v0.3.77"].released == "2025-11-21"
    assert by_tag["v0.5.0"].released == "—" and by_tag["v0.5.0"].marker == "●"


def test_prereleases_hidden_unless_asked_or_installed() -> None:
    assert "v0.4.0-rc1" not in [r.tag for r in build_rows(RELEASES, [])]
    shown = build_rows(RELEASES, [], show_prereleases=True)
    assert [r.tag for r in shown][1:3] == ["v0.4.0", "v0.4.0-rc1"]
    assert next(r for r in shown if r.tag == "v0.4.0-rc1").status == "pre"
    installed = build_rows(RELEASES, [record("v0.4.0-rc1")])
    assert "v0.4.0-rc1" in [r.tag for r in installed]


def test_filter_matches_tag_or_name() -> None:
    assert [r.tag for r in build_rows(RELEASES, [], query="0.3")] == ["v0.3.77"]
    assert [r.tag for r in build_rows(RELEASES, [], query="BIG")] == ["v0.4.0"]
    assert build_rows(RELEASES, [], query="nothing") == []


def test_status_line() -> None:
    listed = ReleaseList(RELEASES, "github", fetched_at=0.0, age_s=0.0)
    text, warn = status_line(listed, 3, installed=1, checking=False, show_prereleases=False)
    assert text == "3 shown · from GitHub just now · 1 installed · 1 prereleases hidden (p)"
    assert not warn
    cached = ReleaseList(RELEASES, "cache", age_s=7300, warning="GitHub unreachable — x")
    text, warn = status_line(cached, 3, installed=0, checking=True, show_prereleases=True)
    assert text == "GitHub unreachable — x · checking GitHub…" and warn
    mirror = ReleaseList(RELEASES, "mirror", age_s=0.0)
    text, _ = status_line(mirror, 4, installed=0, checking=False, show_prereleases=True)
    assert text == "4 shown · from the local git tags"
    assert status_line(None, 0, installed=0, checking=True, show_prereleases=False)[0] == (
        "Checking GitHub for ComfyUI releases…"
    )


def test_empty_text() -> None:
    assert empty_text("", checking=False) == "No releases known yet — press r to fetch the list"
    assert empty_text("", checking=True) == "Fetching the list of ComfyUI releases…"
    assert "Nothing matches “zz”" in empty_text("zz", checking=False)


def test_detail_lines_and_log_tail(tmp_path) -> None:  # type: ignore[no-untyped-def]
    lines = dict(detail_lines("v0.4.0", None, RELEASES[2], default=False))
    assert lines["Release"] == "v0.4.0 “Big one” · released 2025-12-05"
    assert lines["Installed"] == "no — press i to install"
    rec = VersionRecord(
        tag="v0.3.77", path="/v", python="/p", torch_version="2.9.1", torch_backend="cpu"
    )
    lines = dict(detail_lines("v0.3.77", rec, None, default=True))
    assert "default" in lines["Installed"] and "torch 2.9.1 (cpu)" in lines["Versions"]
    log = tmp_path / "install.log"
    log.write_text("".join(f"{i}\n" for i in range(500)))
    assert read_tail(log) == [str(i) for i in range(300, 500)]
    assert read_tail(tmp_path / "missing.log") == []

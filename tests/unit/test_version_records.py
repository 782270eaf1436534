"""Version records round-trip, list, and carry the default version."""

from __future__ import annotations

from pathlib import Path

import pytest

from comfy_tui.errors import MetadataError
from comfy_tui.paths import DataPaths
from comfy_tui.store.jsonfile import write_json
from comfy_tui.store.version_records import (
    VersionRecord,
    delete_record,
    get_default,
    list_records,
    load_record,
    save_record,
    set_default,
)


def record(tag: str) -> VersionRecord:
    return VersionRecord(
        tag=tag,
        path=f"/d/versions/{tag}",
        python=f"/d/versions/{tag}/.venv/bin/python",
        flags=("--port", "--cuda-device"),
        step_seconds={"clone": 1.5},
    )


def test_round_trip_and_list(tmp_path: Path) -> None:
    paths = DataPaths(tmp_path)
    assert load_record(paths, "v1") is None
    save_record(paths, record("v1"))
    save_record(paths, record("v2"))
    loaded = load_record(paths, "v1")
    assert loaded == record("v1")
    assert loaded is not None and loaded.accepts("--cuda-device")
    assert [r.tag for r in list_records(paths)] == ["v1", "v2"]


def test_default_is_set_cleared_and_dropped_with_its_record(tmp_path: Path) -> None:
    paths = DataPaths(tmp_path)
    save_record(paths, record("v1"))
    assert get_default(paths) is None
    set_default(paths, "v1")
    assert get_default(paths) == "v1"
    delete_record(paths, "v1")
    assert get_default(paths) is None
    assert list_records(paths) == []


def test_unknown_fields_are_a_metadata_error(tmp_path: Path) -> None:
    paths = DataPaths(tmp_path)
    write_json(paths.version_record("v1"), {"tag": "v1", "path": "/x", "python": "/p", "x": 1})
    with pytest.raises(MetadataError, match="unexpected fields"):
        load_record(paths, "v1")

"""Bounded growth: download history and environment snapshots keep the newest N; a removed
node's checkout waits in the trash and comes back with its record."""

from __future__ import annotations

from pathlib import Path

import pytest

from comfy_tui.errors import ValidationError
from comfy_tui.paths import DataPaths
from comfy_tui.services import trashbin
from comfy_tui.services.downloads.data import DownloadRequest, State
from comfy_tui.services.downloads.store import DownloadItem, load_items, save_item
from comfy_tui.store import node_records
from comfy_tui.store.envsnap_records import Snapshot, list_snapshots, prune_snapshots, save_snapshot


def item(n: int, state: State) -> DownloadItem:
    request = DownloadRequest(f"https://example.com/{n}.safetensors", None, "loras", None, None)
    return DownloadItem(id=f"d{n}", request=request, state=state, added_at=float(n),
                        finished_at=float(n) if state is State.DONE else None)  # fmt: skip


def test_only_the_newest_finished_downloads_are_remembered(tmp_path: Path) -> None:
    queue_file = tmp_path / "downloads.json"
    save_item(queue_file, item(0, State.PAUSED), history_keep=2)
    for n in range(1, 6):
        save_item(queue_file, item(n, State.DONE), history_keep=2)
    save_item(queue_file, item(6, State.CANCELLED), history_keep=2)
    assert [i.id for i in load_items(queue_file)] == ["d0", "d5", "d6"]  # unfinished stay


def test_snapshots_beyond_the_newest_n_are_deleted(tmp_path: Path) -> None:
    paths = DataPaths(tmp_path / "data")
    for n in range(5):
        save_snapshot(paths, Snapshot(f"2026010{n}-000000", "v1", float(n), "r", "", (), ()))
    assert prune_snapshots(paths, "v1", 3) == ["20260101-000000", "20260100-000000"]
    assert [s.id for s in list_snapshots(paths, "v1")] == [
        "20260104-000000",
        "20260103-000000",
        "20260102-000000",
    ]
    assert sorted(p.name for p in paths.snapshots_dir("v1").iterdir() if "0101" in p.name) == []


def test_a_removed_node_is_restored_with_its_record(tmp_path: Path) -> None:
    paths = DataPaths(tmp_path / "data")
    checkout = paths.node_dir("Thing")
    (checkout / ".git").mkdir(parents=True)
    (checkout / "nodes.py").write_text("x = 1\n")
    record = node_records.NodeRecord("Thing", "https://github.com/o/Thing", branch="main")
    entry = trashbin.put_node_aside(paths, record, "Thing", checkout, 100.0)
    assert entry is not None and entry.parts == ("checkout",)
    assert not checkout.exists()
    [listed] = trashbin.list_entries(paths)
    assert (listed.kind, listed.name, dict(listed.record)["url"]) == (
        "node",
        "Thing",
        "https://github.com/o/Thing",
    )

    checkout.mkdir()  # a node of that name was added again: refused
    with pytest.raises(ValidationError, match="exists again"):
        trashbin.restore_entry(paths, listed)
    checkout.rmdir()
    line = trashbin.restore_entry(paths, listed)
    assert "restored the node Thing" in line
    assert (checkout / "nodes.py").read_text() == "x = 1\n"
    assert node_records.load_node(paths, "Thing") == record
    assert trashbin.list_entries(paths) == []


def test_nothing_to_keep_makes_no_entry(tmp_path: Path) -> None:
    paths = DataPaths(tmp_path / "data")
    version = paths.version_dir("v1")
    (version / "user").mkdir(parents=True)
    assert trashbin.put_version_aside(paths, "v1", version, 1.0) is None
    assert trashbin.list_entries(paths) == []

"""Run records: round trip, locked updates, short unique ids, pruning of finished ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from comfy_tui.errors import MetadataError, NotFoundError
from comfy_tui.paths import DataPaths
from comfy_tui.store.instance_records import (
    InstanceRecord,
    list_instances,
    load_instance,
    new_instance_id,
    prune_finished,
    require_instance,
    save_instance,
    update_instance,
)


def rec(instance_id: str, state: str = "running", t: float = 1.0) -> InstanceRecord:
    return InstanceRecord(
        id=instance_id,
        version="v1",
        port=8188,
        listen="127.0.0.1",
        gpu=0,
        argv=("python", "main.py", "--port", "8188"),
        cwd="/v",
        log_path=f"/d/logs/{instance_id}.log",
        started_at=t,
        env={"CUDA_VISIBLE_DEVICES": "0"},
        state=state,  # type: ignore[arg-type]
        restart_times=(1.0, 2.0),
        ended_at=t if state in ("exited", "crashed") else None,
    )


def test_round_trip_and_file_mode(tmp_path: Path) -> None:
    paths = DataPaths(tmp_path)
    save_instance(paths, rec("c1"))
    assert load_instance(paths, "c1") == rec("c1")
    assert load_instance(paths, "nope") is None
    assert (paths.instance_record("c1").stat().st_mode & 0o777) == 0o600
    with pytest.raises(NotFoundError, match="no instance 'nope'"):
        require_instance(paths, "nope")


def test_update_is_read_modify_write(tmp_path: Path) -> None:
    paths = DataPaths(tmp_path)
    save_instance(paths, rec("c1"))
    out = update_instance(paths, "c1", lambda r: r.evolve(restarts=r.restarts + 1))
    assert out.restarts == 1 and require_instance(paths, "c1").restarts == 1
    same = update_instance(paths, "c1", lambda r: None)
    assert same.restarts == 1
    with pytest.raises(NotFoundError):
        update_instance(paths, "gone", lambda r: r)


def test_list_skips_unreadable_and_sorts_by_launch(tmp_path: Path) -> None:
    paths = DataPaths(tmp_path)
    save_instance(paths, rec("c2", t=2.0))
    save_instance(paths, rec("c1", t=1.0))
    (paths.instances_dir() / "junk.json").write_text("{not json")
    assert [r.id for r in list_instances(paths)] == ["c1", "c2"]


def test_unknown_state_is_refused(tmp_path: Path) -> None:
    paths = DataPaths(tmp_path)
    data = {**rec("c1").to_json(), "state": "dancing", "schema_version": 1}
    paths.instance_record("c1").write_text(json.dumps(data))
    with pytest.raises(MetadataError, match="unknown state"):
        load_instance(paths, "c1")


def test_new_ids_are_short_and_unused(tmp_path: Path) -> None:
    paths = DataPaths(tmp_path)
    ids = {new_instance_id(paths) for _ in range(50)}
    assert all(len(i) == 6 and i[0] == "c" for i in ids)


def test_prune_keeps_live_and_the_newest_finished(tmp_path: Path) -> None:
    paths = DataPaths(tmp_path)
    save_instance(paths, rec("live", "running", 0.0))
    for i in range(5):
        save_instance(paths, rec(f"f{i}", "exited", float(i)))
        paths.instance_log(f"f{i}").write_text("log")
        (paths.instance_dir(f"f{i}") / "comfyui.db").write_text("db")
    assert prune_finished(paths, keep=2) == ["f0", "f1", "f2"]
    assert [r.id for r in list_instances(paths)] == ["live", "f3", "f4"]
    assert not paths.instance_log("f0").exists()
    assert not (paths.instances_dir() / "f0").exists()

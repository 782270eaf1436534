"""Tests for comfy_tui.store.jsonfile: atomic JSON state, backups, schema and locking."""

from __future__ import annotations

import json
import logging
import os
import re
import stat
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

import comfy_tui
from comfy_tui.errors import LockBusyError, MetadataError
from comfy_tui.store.jsonfile import (
    backup_path,
    file_lock,
    lock_path,
    read_json,
    read_json_versioned,
    update_json,
    write_json,
)

REPO_ROOT = Path(comfy_tui.__file__).resolve().parent.parent


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT)}


def _write_raw(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj), encoding="utf-8")


# ------------------------------------------------------------------ round trip/format


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    data = {"name": "ünïcode ✓", "nested": {"list": [1, 2.5, None, True]}, "z": ""}
    write_json(path, data)
    assert read_json(path) == data


def test_schema_version_added_on_disk_and_stripped_on_read(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    write_json(path, {"b": 1, "a": "é"}, schema=2)
    text = path.read_text(encoding="utf-8")
    assert json.loads(text) == {"a": "é", "b": 1, "schema_version": 2}
    assert text == '{\n  "a": "é",\n  "b": 1,\n  "schema_version": 2\n}\n'
    assert read_json(path, schema=2) == {"a": "é", "b": 1}
    assert read_json_versioned(path, schema=2) == (2, {"a": "é", "b": 1})


def test_write_does_not_mutate_input_and_rejects_reserved_key(tmp_path: Path) -> None:
    data: dict[str, Any] = {"a": 1}
    write_json(tmp_path / "a.json", data)
    assert data == {"a": 1}
    with pytest.raises(ValueError, match="schema_version"):
        write_json(tmp_path / "a.json", {"schema_version": 3})


def test_unserialisable_data_leaves_file_and_no_tmp(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    write_json(path, {"a": 1})
    with pytest.raises(TypeError):
        write_json(path, {"a": object()})
    assert read_json(path) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_creates_parent_dirs_and_mode_0600(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "a.json"
    old_umask = os.umask(0)
    try:
        write_json(path, {"a": 1})
        write_json(path, {"a": 2})
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(backup_path(path).stat().st_mode) == 0o600
    assert stat.S_IMODE(lock_path(path).stat().st_mode) == 0o600


def test_backup_keeps_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    write_json(path, {"v": 1})
    assert not backup_path(path).exists()
    write_json(path, {"v": 2})
    assert json.loads(backup_path(path).read_text()) == {"v": 1, "schema_version": 1}
    write_json(path, {"v": 3})
    assert json.loads(backup_path(path).read_text()) == {"v": 2, "schema_version": 1}


def test_corrupt_current_file_is_not_kept_as_backup(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    write_json(path, {"v": 1})
    write_json(path, {"v": 2})
    path.write_text("{garbage")
    write_json(path, {"v": 3})
    assert json.loads(backup_path(path).read_text()) == {"v": 1, "schema_version": 1}
    assert read_json(path) == {"v": 3}


# ---------------------------------------------------------------------- schema


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    write_json(path, {"a": 1}, schema=3)
    with pytest.raises(
        MetadataError, match=r"newer comfy-tui \(schema 3, this build reads up to 2\)"
    ):
        read_json(path, schema=2)


def test_older_schema_is_accepted_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    write_json(path, {"a": 1}, schema=1)
    assert read_json(path, schema=4) == {"a": 1}
    assert read_json_versioned(path, schema=4) == (1, {"a": 1})


# ------------------------------------------------------------------- corruption


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("", "Expecting value"),
        ('{"a": 1', "Expecting"),
        ("[1, 2]", "not an object"),
        ('{"a": 1}', "no schema_version"),
        ('{"a": 1, "schema_version": "1"}', "bad schema_version"),
        ('{"a": 1, "schema_version": true}', "bad schema_version"),
    ],
)
def test_corrupt_file_falls_back_to_backup(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, content: str, problem: str
) -> None:
    path = tmp_path / "a.json"
    write_json(path, {"v": 1})
    write_json(path, {"v": 2})
    path.write_text(content)
    with caplog.at_level(logging.WARNING, logger="comfy_tui.store.jsonfile"):
        assert read_json(path) == {"v": 1}
    assert any(problem in r.getMessage() and str(path) in r.getMessage() for r in caplog.records)


def test_non_utf8_file_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_bytes(b'{"a": "\xff"}')
    with pytest.raises(MetadataError, match="not UTF-8"):
        read_json(path)


def test_corrupt_file_without_backup_raises_naming_file(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text("not json")
    with pytest.raises(MetadataError) as info:
        read_json(path, default={"x": 1})
    message = str(info.value)
    assert str(path) in message
    assert "corrupt" in message
    assert "Expecting value: line 1 column 1" in message
    assert "no valid backup" in message
    assert "\n" not in message


def test_corrupt_file_with_corrupt_backup_raises(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text('{"schema_version": 1')
    backup_path(path).write_text("[]")
    with pytest.raises(MetadataError, match="no valid backup") as info:
        read_json(path)
    assert str(path) in str(info.value)


def test_corrupt_file_with_newer_backup_raises_newer(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text("{")
    _write_raw(backup_path(path), {"a": 1, "schema_version": 9})
    with pytest.raises(MetadataError, match="schema 9"):
        read_json(path, schema=1)


# ---------------------------------------------------------------------- missing


def test_missing_file_returns_copy_of_default(tmp_path: Path) -> None:
    default: dict[str, Any] = {"items": []}
    got = read_json(tmp_path / "none.json", default=default)
    assert got == {"items": []}
    got["items"].append(1)
    assert default == {"items": []}
    assert read_json_versioned(tmp_path / "none.json", schema=3, default={}) == (3, {})


def test_missing_file_without_default_raises_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_json(tmp_path / "none.json")
    with pytest.raises(FileNotFoundError):
        read_json(tmp_path / "no" / "dir" / "none.json")


def test_missing_file_with_backup_uses_backup(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    write_json(path, {"v": 1})
    write_json(path, {"v": 2})
    path.unlink()
    assert read_json(path, default={"v": 0}) == {"v": 1}


def test_unreadable_path_is_metadata_error(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.mkdir()
    with pytest.raises(MetadataError, match="cannot be read"):
        read_json(path)


# ----------------------------------------------------------------- tmp cleanup


def test_stale_tmp_files_are_cleaned(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    stale = [
        tmp_path / ".a.json.0123456789abcdef.tmp",
        tmp_path / ".a.json.fedcba9876543210.bak.tmp",
    ]
    unrelated = [
        tmp_path / ".a.json.x.0123456789abcdef.tmp",  # belongs to "a.json.x"
        tmp_path / ".b.json.0123456789abcdef.tmp",
        tmp_path / "a.json.tmp",
    ]
    for p in stale + unrelated:
        p.write_text("{half a docum")
    write_json(path, {"a": 1})
    for p in stale:
        assert not p.exists(), p
    for p in unrelated:
        assert p.exists(), p
    assert read_json(path) == {"a": 1}


# ------------------------------------------------------------------------ lock


def _hold_in_thread(path: Path, *, shared: bool = False) -> tuple[threading.Event, threading.Event]:
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with file_lock(path, shared=shared):
            held.set()
            release.wait()

    threading.Thread(target=hold, daemon=True).start()
    assert held.wait(10)
    return held, release


def test_lock_is_a_sidecar_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "a.json"
    with file_lock(path):
        assert lock_path(path) == tmp_path / "sub" / "a.json.lock"
        assert lock_path(path).exists()
        assert not path.exists()


def test_lock_held_by_another_thread_times_out(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    _, release = _hold_in_thread(path)
    try:
        with pytest.raises(LockBusyError) as info, file_lock(path, timeout=0):
            pass
        assert str(path) in str(info.value)
        with pytest.raises(LockBusyError), file_lock(path, timeout=0.05):
            pass
        with pytest.raises(LockBusyError), file_lock(path, timeout=0, shared=True):
            pass
    finally:
        release.set()
    with file_lock(path, timeout=10):
        pass


def test_shared_locks_coexist_but_exclude_writers(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    _, release = _hold_in_thread(path, shared=True)
    try:
        with file_lock(path, timeout=0, shared=True):
            pass
        with pytest.raises(LockBusyError), file_lock(path, timeout=0):
            pass
    finally:
        release.set()


def test_waiting_thread_gets_lock_when_released(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    _, release = _hold_in_thread(path)
    got = threading.Event()

    def wait_for_it() -> None:
        with file_lock(path):
            got.set()

    waiter = threading.Thread(target=wait_for_it, daemon=True)
    waiter.start()
    assert not got.wait(0.05)
    release.set()
    waiter.join(10)
    assert got.is_set()


def _try_lock(path: Path) -> None:
    with file_lock(path, timeout=0.1):
        pass


def test_lock_held_by_another_process_times_out(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        from comfy_tui.store.jsonfile import file_lock
        with file_lock(Path({str(path)!r})):
            print("held", flush=True)
            sys.stdin.read()
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        env=_env(),
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        assert proc.stdout.readline() == "held\n"
        with pytest.raises(LockBusyError, match=re.escape(str(path))):
            _try_lock(path)
        proc.stdin.close()
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
    write_json(path, {"ok": True})
    assert read_json(path) == {"ok": True}


def test_lock_is_reentrant_within_a_thread(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    with file_lock(path, timeout=0), file_lock(path, timeout=0):
        write_json(path, {"a": 1})  # takes the lock again: must not deadlock
        assert update_json(path, lambda d: {"a": d["a"] + 1}) == {"a": 2}
        with file_lock(path, shared=True, timeout=0):
            pass
    # fully released: another thread can take it
    _, release = _hold_in_thread(path)
    release.set()


def test_shared_lock_cannot_be_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    with file_lock(path, shared=True), pytest.raises(RuntimeError, match="upgrade"):
        write_json(path, {"a": 1})


# ----------------------------------------------------------------------- update


def test_update_json_applies_fn_and_returns_new(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    assert update_json(path, lambda d: {**d, "n": d["n"] + 1}, default={"n": 0}) == {"n": 1}
    assert update_json(path, lambda d: {**d, "n": d["n"] + 1}, default={"n": 0}) == {"n": 2}
    assert read_json(path) == {"n": 2}
    with pytest.raises(FileNotFoundError):
        update_json(tmp_path / "b.json", lambda d: d)


def test_update_json_fn_error_leaves_file(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    write_json(path, {"n": 1})

    def boom(d: dict[str, Any]) -> dict[str, Any]:
        raise KeyError("boom")

    with pytest.raises(KeyError):
        update_json(path, boom)
    assert read_json(path) == {"n": 1}
    with file_lock(path, timeout=0):  # and the lock was released
        pass


def test_update_json_from_concurrent_processes(tmp_path: Path) -> None:
    path = tmp_path / "counter.json"
    code = textwrap.dedent(
        f"""
        from pathlib import Path
        from comfy_tui.store.jsonfile import update_json
        path = Path({str(path)!r})
        for _ in range(25):
            update_json(path, lambda d: {{"count": d["count"] + 1}}, default={{"count": 0}})
        """
    )
    procs = [subprocess.Popen([sys.executable, "-c", code], env=_env()) for _ in range(4)]
    assert [p.wait(120) for p in procs] == [0, 0, 0, 0]
    assert read_json(path) == {"count": 100}


def test_update_json_from_concurrent_threads(tmp_path: Path) -> None:
    path = tmp_path / "counter.json"

    def work() -> None:
        for _ in range(25):
            update_json(path, lambda d: {"count": d["count"] + 1}, default={"count": 0})

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert read_json(path) == {"count": 100}


def test_no_tmp_left_when_the_backup_already_is_the_current_file(tmp_path: Path) -> None:
    """A writer killed between its two renames leaves .bak and the file as one inode; the next
    write's backup rename is then a no-op that must not leave its temp link behind."""
    path = tmp_path / "state.json"
    write_json(path, {"n": 1})
    backup = path.with_name(path.name + ".bak")
    backup.unlink(missing_ok=True)
    os.link(path, backup)
    write_json(path, {"n": 2})
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []
    assert read_json(path) == {"n": 2}
    assert json.loads(backup.read_text())["n"] == 1

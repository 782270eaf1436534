"""Copy-truncate rotation keeps N copies, and a follower reads across it without a gap."""

from __future__ import annotations

import os
from pathlib import Path

from comfy_tui.services.instances.logrotate import Rotator, copy_truncate, rotated
from comfy_tui.services.logtail import LogTail


def test_copies_shift_and_the_oldest_goes(tmp_path: Path) -> None:
    log = tmp_path / "c1.log"
    for n in range(1, 5):
        log.write_text(f"round {n}\n")
        assert copy_truncate(log, keep=2)
        assert log.stat().st_size == 0
    assert rotated(log, 1).read_text() == "round 4\n"
    assert rotated(log, 2).read_text() == "round 3\n"
    assert not rotated(log, 3).exists()
    assert not copy_truncate(tmp_path / "absent.log", keep=2)


def test_the_writer_keeps_its_descriptor_and_the_follower_misses_nothing(tmp_path: Path) -> None:
    log = tmp_path / "c1.log"
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)  # as ComfyUI holds it
    tail = LogTail(log, start=0)
    rotator = Rotator(log, max_bytes=50, keep=3)
    seen: list[str] = []
    try:
        for i in range(40):
            os.write(fd, f"line {i:03d}\n".encode())
            if i % 7 == 6:
                seen += tail.read_new()  # the follower reads now and then...
            if i % 10 == 9:
                assert rotator.check()  # ...and the log rotates in between
        seen += tail.read_new()
    finally:
        os.close(fd)
        tail.close()
    assert seen == [f"line {i:03d}" for i in range(40)]
    assert rotator.rotations == 4 and tail.resets == 4
    assert log.read_text() == ""  # rotated right after the last write
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "c1.log", "c1.log.1", "c1.log.2", "c1.log.3",
    ]  # fmt: skip

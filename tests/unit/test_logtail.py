"""The log tail: incremental, partial lines wait, truncation and rotation, 100k lines."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from comfy_tui.services.logtail import LogTail, clean_line, last_lines

Tails = Callable[..., LogTail]


@pytest.fixture
def tails() -> Iterator[Tails]:
    """Make `LogTail`s that are closed when the test ends (they keep their file open)."""
    made: list[LogTail] = []

    def make(*args: Any, **kwargs: Any) -> LogTail:
        made.append(LogTail(*args, **kwargs))
        return made[-1]

    yield make
    for tail in made:
        tail.close()


def test_reads_only_what_was_appended(tmp_path: Path, tails: Tails) -> None:
    log = tmp_path / "a.log"
    log.write_text("old 1\nold 2\n")
    tail = tails(log)  # from the end
    assert tail.read_new() == []
    with log.open("a") as f:
        f.write("new 1\nnew ")
    assert tail.read_new() == ["new 1"]
    with log.open("a") as f:
        f.write("2\n")
    assert tail.read_new() == ["new 2"]
    assert tails(log, start=0).read_new() == ["old 1", "old 2", "new 1", "new 2"]


def test_survives_truncation(tmp_path: Path, tails: Tails) -> None:
    log = tmp_path / "a.log"
    log.write_text("a\nb\n")
    tail = tails(log, start=0)
    assert tail.read_new() == ["a", "b"]
    log.write_text("c\n")  # truncated and rewritten, shorter than before
    assert tail.read_new() == ["c"] and tail.resets == 1


def test_survives_rotation(tmp_path: Path, tails: Tails) -> None:
    log = tmp_path / "a.log"
    log.write_text("a\n")
    tail = tails(log, start=0)
    assert tail.read_new() == ["a"]
    with log.open("a") as f:
        f.write("last of old\npartial")
    os.replace(log, tmp_path / "a.log.1")
    log.write_text("first of new\n")
    assert tail.read_new() == ["last of old", "partial", "first of new"]
    assert tail.resets == 1


def test_a_file_that_appears_later_is_read_whole(tmp_path: Path, tails: Tails) -> None:
    log = tmp_path / "later.log"
    tail = tails(log)
    assert tail.read_new() == []
    log.write_text("x\n")
    assert tail.read_new() == ["x"]


def test_progress_bars_and_bad_bytes() -> None:
    assert clean_line(b" 10%|#\r 50%|###\r100%|#####") == "100%|#####"
    assert clean_line(b"caf\xc3\xa9 \xff") == "café \ufffd"


def test_last_lines_reads_backwards(tmp_path: Path) -> None:
    log = tmp_path / "a.log"
    log.write_text("".join(f"line {i}\n" for i in range(10000)) + "partial")
    lines, offset = last_lines(log, 3, block=100)
    assert lines == ["line 9997", "line 9998", "line 9999"]
    assert offset == log.stat().st_size - len("partial")
    assert last_lines(log, 0)[0] == []
    assert last_lines(tmp_path / "none.log", 5) == ([], 0)


def test_a_child_writing_100k_lines_is_followed_completely(tmp_path: Path, tails: Tails) -> None:
    log = tmp_path / "fast.log"
    log.touch()
    tail = tails(log, start=0, max_bytes=256 * 1024)
    code = "import sys\nfor i in range(100000): sys.stdout.write(f'line {i}\\n')\n"
    with log.open("ab") as out:
        child = subprocess.Popen([sys.executable, "-c", code], stdout=out)
    got: list[str] = []
    while child.poll() is None or len(got) < 100000:
        batch = tail.read_new()
        got.extend(batch)
        if not batch and child.poll() is not None and len(got) < 100000:
            got.extend(tail.read_new())
            break
    assert child.wait() == 0
    assert len(got) == 100000 and got[0] == "line 0" and got[-1] == "line 99999"

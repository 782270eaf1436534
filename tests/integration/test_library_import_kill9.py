"""kill -9 in the middle of an import: no partial file in the library, no row for it."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.fakes import models as fm

SIZE = 384 * 1024 * 1024


def start_import(data_dir: Path, source: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMFY_TUI_")}
    return subprocess.Popen(
        [sys.executable, "-m", "comfy_tui", "--data-dir", str(data_dir), "models", "import",
         str(source), "--copy", "--folder", "checkpoints"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )  # fmt: skip


def rows(data_dir: Path) -> list[str]:
    db = data_dir / "library" / "library.db"
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        try:
            return [r[0] for r in conn.execute("SELECT relpath FROM models")]
        except sqlite3.OperationalError:  # killed before the first migration committed
            return []


def test_kill9_during_a_copy_leaves_neither_file_nor_row(data_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "big.safetensors"
    source.write_bytes(fm.safetensors_bytes(fm.keys(["w"], dtype="F32")))
    with source.open("ab") as f:
        f.truncate(SIZE)  # sparse: reading it is fast, writing the copy is not
    staging = data_dir / "library" / ".staging"
    proc = start_import(data_dir, source)
    try:
        deadline = time.monotonic() + 60
        while not (staging.is_dir() and any(staging.iterdir())):
            assert proc.poll() is None, "the import ended before it was killed"
            assert time.monotonic() < deadline, "the import never started copying"
            time.sleep(0.001)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    models = data_dir / "library" / "models"
    assert [p for p in models.rglob("*") if p.is_file()] == []
    assert rows(data_dir) == []

    rerun = start_import(data_dir, source)
    assert rerun.wait(timeout=120) == 0
    assert rows(data_dir) == ["checkpoints/big.safetensors"]
    assert list(staging.iterdir()) == [], "the next import cleans what the killed one left"
    assert (models / "checkpoints" / "big.safetensors").stat().st_size == SIZE

"""A killed import is repaired by the next command; a damaged index is rebuilt by a scan.

The import is killed with SIGKILL at each of its named steps (the test-only
`COMFY_TUI_TEST_KILL_AT` hook), then the next `models import` or `models scan` must leave the
file in the library exactly once and indexed.
"""

from __future__ import annotations

import json
import signal
import sqlite3
from pathlib import Path

import pytest

from comfy_tui.services.faults import KILL_AT_ENV
from tests.fakes import models as fm
from tests.integration.library_helpers import Completed, ok, run_cli

STEPS = ("import.staged", "import.placed", "import.indexed")


def run(data_dir: Path, *args: str, kill_at: str | None = None) -> Completed:
    return run_cli(data_dir, "models", *args, env={KILL_AT_ENV: kill_at} if kill_at else None)


def library_files(data_dir: Path) -> list[str]:
    models = data_dir / "library" / "models"
    return sorted(p.relative_to(models).as_posix() for p in models.rglob("*") if p.is_file())


def listed(data_dir: Path) -> list[tuple[str, str | None]]:
    rows = json.loads(ok(run(data_dir, "list", "--json")).stdout)
    return [(m["relpath"], m["sha256"]) for m in rows]


@pytest.mark.parametrize("repair", ["import", "scan"])
@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("mode", ["--copy", "--link"])
def test_an_import_killed_at_any_step_is_repaired_by_the_next_command(
    data_dir: Path, tmp_path: Path, step: str, repair: str, mode: str
) -> None:
    source = fm.write_safetensors(tmp_path / "src" / "sd15.safetensors", fm.sd15_checkpoint())
    args = ("import", str(source), mode, "--folder", "checkpoints", "--json")
    killed = run(data_dir, *args, kill_at=step)
    assert killed.returncode == -signal.SIGKILL

    if repair == "import":
        [outcome] = json.loads(ok(run(data_dir, *args)).stdout)
        assert outcome["relpath"] == "checkpoints/sd15.safetensors"
    else:
        ok(run(data_dir, "scan"))
    # killed before placing: nothing reached the library, and only a new import brings it
    expected = (
        [] if (step, repair) == ("import.staged", "scan") else ["checkpoints/sd15.safetensors"]
    )
    assert library_files(data_dir) == expected  # never a `-1` copy
    assert [relpath for relpath, _ in listed(data_dir)] == expected
    assert list((data_dir / "library" / ".staging").iterdir()) == []
    assert source.is_file()


def test_a_move_killed_after_placing_keeps_the_source_and_indexes_the_file(
    data_dir: Path, tmp_path: Path
) -> None:
    source = fm.write_safetensors(tmp_path / "src" / "a.safetensors", fm.sdxl_lora())
    args = ("import", str(source), "--move", "--folder", "loras")
    assert run(data_dir, *args, kill_at="import.placed").returncode == -signal.SIGKILL
    ok(run(data_dir, *args))
    assert [r for r, _ in listed(data_dir)] == ["loras/a.safetensors"]
    assert listed(data_dir)[0][1] is not None  # the import's own hash
    assert library_files(data_dir) == ["loras/a.safetensors"]


def test_a_damaged_index_is_one_line_then_rebuilt_by_scan(data_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "src"
    fm.write_safetensors(src / "checkpoints" / "sd15.safetensors", fm.sd15_checkpoint())
    fm.write_safetensors(src / "loras" / "pixel.safetensors", fm.sdxl_lora())
    ok(run(data_dir, "import", str(src), "--copy"))
    db = data_dir / "library" / "library.db"
    for extra in ("-wal", "-shm"):
        Path(f"{db}{extra}").unlink(missing_ok=True)
    db.write_bytes(b"this is not an SQLite database\n" * 200)

    broken = run(data_dir, "list")
    assert broken.returncode == 1
    assert "Traceback" not in broken.stderr
    [line] = broken.stderr.strip().splitlines()
    assert "damaged" in line and "comfy-tui models scan" in line

    scanned = ok(run(data_dir, "scan", "--json"))
    summary = json.loads(scanned.stdout)
    assert summary["rebuilt"] is True and summary["new"] == 2
    assert [r for r, _ in listed(data_dir)] == [
        "checkpoints/sd15.safetensors",
        "loras/pixel.safetensors",
    ]
    assert (data_dir / "library" / "library.db.damaged").is_file()
    # `models scan` sets its log file up only when it has something to log (log_start.py):
    # the rebuild's warning is in the file, not on the terminal.
    assert "set aside as" in (data_dir / "logs" / "comfy-tui.log").read_text()
    assert "set aside as" not in scanned.stderr
    again = json.loads(ok(run(data_dir, "scan", "--json")).stdout)
    assert again["rebuilt"] is False and again["unchanged"] == 2


def test_a_rebuild_keeps_the_hashes_and_sources_it_can_still_read(
    data_dir: Path, tmp_path: Path
) -> None:
    source = fm.write_safetensors(tmp_path / "src" / "a.safetensors", fm.sdxl_lora())
    [outcome] = json.loads(ok(run(data_dir, "import", str(source), "--json")).stdout)
    db = data_dir / "library" / "library.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("UPDATE models SET source_url = 'https://example.com/a.safetensors'")
    conn.execute("PRAGMA writable_schema = ON")  # the search index's schema entry is garbage
    conn.execute("UPDATE sqlite_master SET sql = 'garbage' WHERE name = 'models_fts'")
    conn.close()
    assert run(data_dir, "list", "a").returncode == 1

    summary = json.loads(ok(run(data_dir, "scan", "--json")).stdout)
    assert summary["rebuilt"] is True and summary["salvaged"] == 1
    [model] = json.loads(ok(run(data_dir, "list", "--json")).stdout)
    assert model["sha256"] == outcome["sha256"]
    assert model["source_url"] == "https://example.com/a.safetensors"

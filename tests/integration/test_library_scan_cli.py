"""`comfy-tui models scan` (blocking, in the CLI's main thread) and the TUI's scan (the same
generator in a worker thread) build the same index: new, changed, removed, unchanged files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from comfy_tui.services.library.scan import ScanSummary
from tests.fakes import models as fm
from tests.integration.library_helpers import drain, make_library, ok, run_cli

SUMMARY = ("files", "new", "changed", "removed", "unchanged", "unreadable", "opened")


def fill(root: Path) -> None:
    fm.write_safetensors(root / "checkpoints" / "sd15.safetensors", fm.sd15_checkpoint())
    fm.write_safetensors(root / "loras" / "style" / "xl.safetensors", fm.sdxl_lora())
    fm.write_gguf(root / "unet" / "flux-q8.gguf", "flux", {"a": (4, 4)})
    (root / "checkpoints" / "old.ckpt").write_bytes(b"\x80\x04not loaded")
    (root / "checkpoints" / "garbage.safetensors").write_bytes(b"\x01" * 64)
    (root / "loras" / "notes.txt").write_text("not a model")


def change(root: Path) -> None:
    """One changed, one removed, one new file; the rest unchanged."""
    lora = root / "loras" / "style" / "xl.safetensors"
    fm.write_safetensors(lora, fm.flux_lora())
    os.utime(lora, ns=(1, 1))
    (root / "checkpoints" / "sd15.safetensors").unlink()
    fm.write_safetensors(root / "vae" / "new.safetensors", fm.sd_vae())


def cli_scan(data_dir: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(ok(run_cli(data_dir, "models", "scan", "--json")).stdout)
    return {k: document[k] for k in SUMMARY}


def rows(data_dir: Path) -> list[dict[str, Any]]:
    """What the index holds, less what differs by where and when it was made."""
    models = json.loads(ok(run_cli(data_dir, "models", "list", "--json")).stdout)
    for m in models:
        for key in ("id", "path", "root", "added_at"):
            del m[key]
    return sorted(models, key=lambda m: str(m["relpath"]))


async def test_cli_scan_and_tui_scan_build_the_same_index(tmp_path: Path) -> None:
    cli_data, tui_data = tmp_path / "cli", tmp_path / "tui"
    library = make_library(tui_data)
    fill(make_library(cli_data).main_root())
    fill(library.main_root())
    for step in ("first", "again", "changed"):
        if step == "changed":
            change(make_library(cli_data).main_root())
            change(library.main_root())
        summary = ScanSummary()
        await drain(library.scan(summary))
        assert cli_scan(cli_data) == {k: getattr(summary, k) for k in SUMMARY}, step
        assert rows(cli_data) == rows(tui_data), step
    assert (summary.new, summary.changed, summary.removed, summary.unchanged) == (1, 1, 1, 3)


def test_cli_rescan_opens_no_unchanged_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    root = make_library(data).main_root()
    fill(root)
    ok(run_cli(data, "models", "scan"))
    code = (
        "import json, os, sys\n"
        "opened = []\n"
        "sys.addaudithook(lambda e, a: opened.append(os.fsdecode(a[0]))"
        " if e == 'open' and a and isinstance(a[0], (str, bytes))"
        " and not (a[2] or 0) & os.O_DIRECTORY else None)\n"  # listing a folder opens no file
        "from comfy_tui.cli import main\n"
        "assert main(['--data-dir', sys.argv[1], 'models', 'scan', '--json']) == 0\n"
        "mine = [p for p in opened if p.startswith(sys.argv[2])]\n"
        "sys.stderr.write('RESULT ' + json.dumps(mine))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(data), str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(result.stderr.rsplit("RESULT ", 1)[1]) == []

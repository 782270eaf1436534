"""`comfy-tui models ...` as a script sees it: a real process, JSON on stdout, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from comfy_tui.paths import DataPaths
from comfy_tui.store.version_records import VersionRecord, save_record
from tests.fakes import models as fm
from tests.integration.library_helpers import Completed, ok, run_cli


def run(data_dir: Path, *args: str) -> Completed:
    return run_cli(data_dir, "models", *args)


def test_import_list_hash_dedupe_rm(data_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "downloads"
    fm.write_safetensors(src / "pixel_xl.safetensors", fm.sdxl_lora())
    fm.write_safetensors(src / "sd15.safetensors", fm.sd15_checkpoint())
    imported = json.loads(ok(run(data_dir, "import", str(src), "--copy", "--json")).stdout)
    assert sorted((o["action"], o["relpath"]) for o in imported) == [
        ("copied", "checkpoints/sd15.safetensors"),
        ("copied", "loras/pixel_xl.safetensors"),
    ]
    listed = json.loads(ok(run(data_dir, "list", "pixel", "--json")).stdout)
    assert [m["relpath"] for m in listed] == ["loras/pixel_xl.safetensors"]
    assert listed[0]["architecture"] == "SDXL" and listed[0]["kind"] == "lora"
    by_path = {o["relpath"]: o["sha256"] for o in imported}
    assert listed[0]["sha256"] == by_path["loras/pixel_xl.safetensors"]
    text = ok(run(data_dir, "list", "--folder", "checkpoints")).stdout
    assert "checkpoints/sd15.safetensors" in text and "SD1.5 checkpoint" in text

    version = tmp_path / "v1"
    save_record(DataPaths(data_dir), VersionRecord("v1", str(version), "/bin/false"))
    fm.write_safetensors(version / "models" / "loras" / "copy.safetensors", fm.sdxl_lora())
    report = json.loads(ok(run(data_dir, "dedupe", "--json")).stdout)
    assert report["applied"] is False and len(report["groups"]) == 1
    assert report["reclaimable_bytes"] == report["groups"][0]["size"]
    text = ok(run(data_dir, "dedupe", "--apply")).stdout
    assert "1 group," in text and "reclaimed" in text
    library_file = data_dir / "library" / "models" / "loras" / "pixel_xl.safetensors"
    copy = version / "models" / "loras" / "copy.safetensors"
    assert copy.stat().st_ino == library_file.stat().st_ino

    (extra := data_dir / "library" / "models" / "vae").mkdir()
    fm.write_safetensors(extra / "new.safetensors", fm.sd_vae())
    scanned = json.loads(ok(run(data_dir, "scan", "--json")).stdout)
    assert (scanned["new"], scanned["unchanged"]) == (1, 2)
    hashed = json.loads(ok(run(data_dir, "hash", "vae/new.safetensors", "--json")).stdout)
    assert [h["relpath"] for h in hashed] == ["vae/new.safetensors"] and hashed[0]["sha256"]

    removed = json.loads(ok(run(data_dir, "rm", "sd15.safetensors", "--json")).stdout)
    assert removed["removed"] == "checkpoints/sd15.safetensors"
    assert Path(removed["trash"]).is_file()
    names = [m["relpath"] for m in json.loads(ok(run(data_dir, "list", "--json")).stdout)]
    assert "checkpoints/sd15.safetensors" not in names


def test_errors_are_one_line_with_the_right_exit_code(data_dir: Path, tmp_path: Path) -> None:
    pickle_file = tmp_path / "model.ckpt"
    pickle_file.write_bytes(b"\x80\x04")
    cases = [
        (("import", str(pickle_file)), 2, "pass --folder"),
        (("import", str(tmp_path / "missing.safetensors")), 2, "no such file"),
        (("import", str(pickle_file), "--folder", "../x"), 2, "invalid folder"),
        (("list", "--folder", "a/b"), 2, "invalid folder"),
        (("rm", "nothing.safetensors"), 1, "no model"),
        (("hash", "nothing.safetensors"), 1, "no model"),
    ]
    for args, code, needle in cases:
        result = run(data_dir, *args)
        assert result.returncode == code, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and needle in lines[0], (args, result.stderr)
    assert "no models" in ok(run(data_dir, "list")).stdout
    assert ok(run(data_dir, "dedupe")).stdout.strip() == "no duplicates"

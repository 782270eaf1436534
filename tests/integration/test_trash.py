"""`comfy-tui trash`: what `models rm` and `remove` put aside is listed, restored and emptied,
and old entries are pruned by `trash_keep_days`."""

from __future__ import annotations

import json
from pathlib import Path

from comfy_tui.paths import DataPaths
from comfy_tui.store.jsonfile import read_json, write_json
from comfy_tui.store.version_records import VersionRecord, save_record
from tests.fakes import models as fm
from tests.integration.library_helpers import ok, run_cli


def trash(data_dir: Path) -> list[dict[str, object]]:
    items: list[dict[str, object]] = json.loads(
        ok(run_cli(data_dir, "trash", "list", "--json")).stdout
    )["items"]
    return items


def fake_version(data_dir: Path, tag: str) -> Path:
    paths = DataPaths(data_dir)
    folder = paths.version_dir(tag)
    folder.mkdir(parents=True, exist_ok=True)
    save_record(paths, VersionRecord(tag, str(folder), "/bin/false"))
    return folder


def test_a_removed_model_is_listed_restored_and_emptied(data_dir: Path, tmp_path: Path) -> None:
    source = fm.write_safetensors(tmp_path / "pixel.safetensors", fm.sdxl_lora())
    ok(run_cli(data_dir, "models", "import", str(source), "--folder", "loras"))
    ok(run_cli(data_dir, "models", "rm", "loras/pixel.safetensors"))
    [item] = trash(data_dir)
    assert (item["kind"], item["name"]) == ("model", "loras/pixel.safetensors")
    assert item["size_bytes"] == source.stat().st_size
    text = ok(run_cli(data_dir, "trash", "list")).stdout
    assert "loras/pixel.safetensors" in text and "1 entry" in text

    restored = ok(run_cli(data_dir, "trash", "restore", str(item["id"])))
    assert "loras/pixel.safetensors" in restored.stdout
    models = json.loads(ok(run_cli(data_dir, "models", "list", "--json")).stdout)
    assert [m["relpath"] for m in models] == ["loras/pixel.safetensors"]
    assert trash(data_dir) == []

    missing = run_cli(data_dir, "trash", "restore", "123-abc")
    assert missing.returncode == 1 and "nothing in the trash" in missing.stderr

    ok(run_cli(data_dir, "models", "rm", "loras/pixel.safetensors"))
    refused = run_cli(data_dir, "trash", "empty")  # no terminal, no --yes
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert len(trash(data_dir)) == 1
    emptied = json.loads(ok(run_cli(data_dir, "trash", "empty", "--yes", "--json")).stdout)
    assert [d["name"] for d in emptied["deleted"]] == ["loras/pixel.safetensors"]
    assert trash(data_dir) == []
    assert not any((data_dir / "library" / ".trash").iterdir())


def test_removing_a_version_puts_its_user_output_and_input_aside(data_dir: Path) -> None:
    version = fake_version(data_dir, "v1")
    workflow = version / "user" / "default" / "workflows" / "portrait.json"
    workflow.parent.mkdir(parents=True)
    workflow.write_text('{"old": true}')
    (version / "output").mkdir()
    (version / "output" / "img_00001.png").write_bytes(b"png")
    (version / "input").mkdir()  # empty: nothing to keep
    (version / "main.py").write_text("")

    ok(run_cli(data_dir, "remove", "v1", "--yes"))
    assert not version.exists()
    [item] = trash(data_dir)
    assert (item["kind"], item["name"], item["detail"]) == ("version", "v1", "output, user")

    refused = run_cli(data_dir, "trash", "restore", str(item["id"]))
    assert refused.returncode == 2 and "install it again" in refused.stderr

    again = fake_version(data_dir, "v1")  # installed again; ComfyUI wrote a new workflow
    fresh = again / "user" / "default" / "workflows" / "portrait.json"
    fresh.parent.mkdir(parents=True)
    fresh.write_text('{"new": true}')
    line = ok(run_cli(data_dir, "trash", "restore", str(item["id"]))).stdout
    assert "restored output, user of v1" in line and "1 file(s)" in line
    assert fresh.read_text() == '{"new": true}'
    assert (fresh.parent / "portrait (restored).json").read_text() == '{"old": true}'
    assert (again / "output" / "img_00001.png").read_bytes() == b"png"
    assert trash(data_dir) == []


def test_entries_older_than_trash_keep_days_are_pruned(data_dir: Path, tmp_path: Path) -> None:
    version = fake_version(data_dir, "v1")
    (version / "user").mkdir()
    (version / "user" / "x.json").write_text("{}")
    ok(run_cli(data_dir, "remove", "v1", "--yes"))
    source = fm.write_safetensors(tmp_path / "a.safetensors", fm.sdxl_lora())
    ok(run_cli(data_dir, "models", "import", str(source), "--folder", "loras"))
    ok(run_cli(data_dir, "models", "rm", "loras/a.safetensors"))
    assert len(trash(data_dir)) == 2

    old = 1_000_000.0  # 1970: far older than any keep setting
    for manifest in (data_dir / "trash").glob("*/entry.json"):
        write_json(manifest, {**read_json(manifest), "removed_at": old})
    (data_dir / "settings.toml").write_text("trash_keep_days = 0\n")
    assert len(trash(data_dir)) == 2, "0 keeps everything"
    (data_dir / "settings.toml").write_text("trash_keep_days = 30\n")
    [left] = trash(data_dir)
    assert left["kind"] == "model"
    assert list((data_dir / "trash").iterdir()) == []

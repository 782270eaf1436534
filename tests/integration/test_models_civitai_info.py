"""`models info MODEL --civitai` against a fake CivitAI on 127.0.0.1: the file is hashed, looked
up by sha256, the answer kept in the index (also "not found"), shown later without asking, and
found by `models list` through its CivitAI name and trigger words."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from tests.fakes import models as fm
from tests.fakes.download_server import DownloadServer, ThreadedServer
from tests.integration.library_helpers import ok, run_cli

TOKEN = "civitai-token-for-tests"


def by_hash(sha: str, version_id: int = 4567) -> dict[str, object]:
    return {
        "id": version_id,
        "modelId": 1234,
        "name": "v2.0 Lightning",
        "baseModel": "SDXL 1.0",
        "trainedWords": ["pixelart style", "8bit"],
        "model": {"name": "Pixel Art XL", "type": "LORA", "nsfw": False},
        "files": [{"name": "pixel_xl.safetensors", "hashes": {"SHA256": sha.upper()}}],
    }


def test_lookup_by_hash_is_kept_shown_and_searchable(data_dir: Path) -> None:
    root = data_dir / "library" / "models"
    lora = fm.write_safetensors(root / "loras" / "pixel_xl.safetensors", fm.sdxl_lora())
    other = fm.write_safetensors(root / "loras" / "mine.safetensors", fm.sd15_lora())
    sha = hashlib.sha256(lora.read_bytes()).hexdigest()
    ok(run_cli(data_dir, "models", "scan"))
    with ThreadedServer(DownloadServer()) as civitai:
        civitai.add(f"/api/v1/model-versions/by-hash/{sha}", json.dumps(by_hash(sha)).encode())
        env = {"COMFY_TUI_CIVITAI_API": civitai.base, "CIVITAI_API_TOKEN": TOKEN}
        plain = ok(run_cli(data_dir, "models", "info", "pixel_xl.safetensors", env=env))
        assert "civitai" not in plain.stdout and not civitai.requests  # never asked unasked

        shown = ok(run_cli(data_dir, "models", "info", "pixel_xl.safetensors", "--civitai",
                           env=env))  # fmt: skip
        facts = dict(line.split(":", 1) for line in shown.stdout.splitlines())
        assert facts["sha256"].strip() == sha  # hashed first
        assert facts["civitai"].strip() == "Pixel Art XL — v2.0 Lightning"
        assert facts["base model"].strip() == "SDXL 1.0"
        assert facts["triggers"].strip() == "pixelart style, 8bit"
        assert f"{civitai.base}/models/1234?modelVersionId=4567" in facts["page"]
        [asked] = civitai.seen(f"/api/v1/model-versions/by-hash/{sha}")
        assert asked.headers["Authorization"] == f"Bearer {TOKEN}"

        unknown = ok(run_cli(data_dir, "models", "info", "loras/mine.safetensors", "--civitai",
                             "--json", env=env))  # fmt: skip
        doc = json.loads(unknown.stdout)
        assert doc["civitai"]["found"] is False and doc["civitai"]["model_name"] == ""
    env = {"COMFY_TUI_CIVITAI_API": civitai.base}  # the server is gone: the index answers
    cached = json.loads(ok(run_cli(data_dir, "models", "info", str(lora), "--json",
                                   env=env)).stdout)  # fmt: skip
    assert cached["civitai"]["model_name"] == "Pixel Art XL"
    assert cached["civitai"]["trained_words"] == ["pixelart style", "8bit"]
    assert "not found" in ok(run_cli(data_dir, "models", "info", str(other))).stdout

    for query in ("pixelart", "lightning", "8bit", "pixel art xl"):
        listed = json.loads(ok(run_cli(data_dir, "models", "list", query, "--json")).stdout)
        assert [m["name"] for m in listed] == ["pixel_xl.safetensors"], query
    # The rename keeps the answer: it belongs to the content.
    ok(run_cli(data_dir, "models", "scan"))
    lora.rename(lora.with_name("renamed.safetensors"))
    ok(run_cli(data_dir, "models", "scan"))
    ok(run_cli(data_dir, "models", "hash"))
    listed = json.loads(ok(run_cli(data_dir, "models", "list", "8bit", "--json")).stdout)
    assert [m["name"] for m in listed] == ["renamed.safetensors"]

    down = run_cli(data_dir, "models", "info", "renamed.safetensors", "--civitai", env=env)
    assert down.returncode == 1 and down.stderr.count("\n") == 1
    assert "cannot reach CivitAI" in down.stderr

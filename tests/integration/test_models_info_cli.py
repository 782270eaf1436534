"""`comfy-tui models info MODEL`: what one library file is, from its header and the index."""

from __future__ import annotations

import json
from pathlib import Path

from tests.fakes import models as fm
from tests.integration.test_library_cli import run


def test_info_shows_architecture_precision_size_and_hash(data_dir: Path) -> None:
    root = data_dir / "library" / "models"
    fm.write_safetensors(root / "checkpoints" / "sd_xl_base_1.0.safetensors", fm.sdxl_checkpoint())
    assert run(data_dir, "scan").returncode == 0
    assert run(data_dir, "hash").returncode == 0
    shown = run(data_dir, "info", "sd_xl_base_1.0.safetensors")
    assert shown.returncode == 0, shown.stderr
    facts = dict(line.split(":", 1) for line in shown.stdout.splitlines())
    assert facts["architecture"].strip() == "SDXL" and facts["precision"].strip() == "F16"
    assert facts["folder"].strip() == "checkpoints" and len(facts["sha256"].strip()) == 64
    doc = json.loads(run(data_dir, "info", "checkpoints/sd_xl_base_1.0.safetensors",
                         "--json").stdout)  # fmt: skip
    assert doc["architecture"] == "SDXL" and doc["dtypes"] == ["F16"]
    missing = run(data_dir, "info", "nope.safetensors")
    assert missing.returncode != 0 and missing.stderr.count("\n") == 1

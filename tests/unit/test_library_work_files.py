"""The scan never indexes a download in progress or the bookkeeping files beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

from comfy_tui.services.library.folder_types import (
    MODEL_EXTENSIONS,
    WORK_SUFFIXES,
    is_model_file,
    is_work_file,
)
from comfy_tui.services.library.scan import ScanSummary, scan_roots
from comfy_tui.services.library.walk import walk_root
from comfy_tui.store.db import connect
from comfy_tui.store.models_index import select_models
from tests.fakes.models import safetensors_bytes, sd15_lora

WORK = [
    "loras/big.safetensors.part",
    "loras/big.safetensors.part.json",
    "loras/big.safetensors.part.json.bak",
    "loras/big.safetensors.part.json.lock",
    "loras/.big.safetensors.part.json.k3j2.tmp",
    "loras/.big.safetensors.part.json.bak.x9.tmp",
    "checkpoints/x.safetensors.lock",
    "checkpoints/x.safetensors.bak",
    "checkpoints/x.ckpt.tmp",
    "configs/v1.yaml.part",
    "vae/ae.safetensors.incomplete",
    "vae/AE.SAFETENSORS.PART",
]


def test_no_work_suffix_ends_in_a_model_extension() -> None:
    """is_model_file relies on it: a name whose last suffix is a model extension is never a
    work file, so a scan asks only the extension of each file."""
    assert not [s for s in WORK_SUFFIXES if s.endswith(tuple(MODEL_EXTENSIONS))]
    assert not [e for e in MODEL_EXTENSIONS if e.endswith(WORK_SUFFIXES)]


@pytest.mark.parametrize("relpath", WORK)
def test_work_files_are_not_models(relpath: str) -> None:
    assert is_work_file(relpath.rsplit("/", 1)[-1])
    assert not is_model_file(relpath)


@pytest.mark.parametrize(
    "relpath", ["loras/part.safetensors", "loras/my.part.safetensors", "configs/lock.yaml"]
)
def test_model_names_that_merely_contain_the_words_are_kept(relpath: str) -> None:
    assert is_model_file(relpath) and not is_work_file(relpath.rsplit("/", 1)[-1])


async def test_a_scan_beside_a_running_download_indexes_only_finished_files(
    tmp_path: Path,
) -> None:
    root = tmp_path / "models"
    data = safetensors_bytes(sd15_lora())
    for rel in WORK:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    (root / "loras/done.safetensors").write_bytes(data)
    walked = walk_root(root)
    assert [f.relpath for f in walked.files] == ["loras/done.safetensors"]
    db_path = tmp_path / "library.db"
    summary = ScanSummary()
    async for _ in scan_roots(db_path, [root], clock=lambda: 1.0, summary=summary):
        pass
    assert (summary.files, summary.new, summary.opened) == (1, 1, 1)
    async with connect(db_path) as db:
        assert [m.relpath for m in await select_models(db)] == ["loras/done.safetensors"]

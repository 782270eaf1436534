"""Symlink mode: relative links into a version's models/, repaired when broken."""

from __future__ import annotations

import os
from pathlib import Path

from tests.fakes import models as fm
from tests.integration.library_helpers import drain, make_library


async def test_links_are_relative_repaired_and_never_clobber(
    data_dir: Path, tmp_path: Path
) -> None:
    library = make_library(data_dir)
    root = library.main_root()
    fm.write_safetensors(root / "loras" / "style" / "a.safetensors", fm.sdxl_lora())
    fm.write_safetensors(root / "checkpoints" / "b.safetensors", fm.sd15_checkpoint())
    fm.write_safetensors(root / "vae" / "gone.safetensors", fm.sd_vae())
    version = data_dir / "versions" / "v1"
    own = fm.write_safetensors(version / "models" / "checkpoints" / "b.safetensors", fm.sd_vae())
    await drain(library.scan())

    report = await library.link_into_version(version)
    assert (report.created, report.kept) == (2, 0)
    assert len(report.skipped) == 1 and "real file" in report.skipped[0]
    link = version / "models" / "loras" / "style" / "a.safetensors"
    assert link.is_symlink() and not os.readlink(link).startswith("/")
    assert link.read_bytes() == (root / "loras" / "style" / "a.safetensors").read_bytes()
    assert not own.is_symlink(), "the version's own file is left alone"

    again = await library.link_into_version(version)
    assert (again.created, again.kept, again.repaired) == (0, 2, 0)

    gone_link = version / "models" / "vae" / "gone.safetensors"
    (root / "vae" / "gone.safetensors").unlink()
    await drain(library.scan())
    os.unlink(link)
    os.symlink("../../../nowhere.safetensors", link)  # broken: gets repaired
    third = await library.link_into_version(version)
    assert third.repaired == 1 and link.exists()
    assert third.removed == 1 and not gone_link.is_symlink()

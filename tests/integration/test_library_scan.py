"""Scans against real folders: new, changed, vanished; unchanged files never opened; symlinks."""

from __future__ import annotations

import os
from pathlib import Path

from comfy_tui.events import Finished, LogLine
from comfy_tui.services.library.scan import ScanSummary
from tests.fakes import models as fm
from tests.fakes.opens import count_opens
from tests.integration.library_helpers import drain, make_library


def fill(root: Path) -> None:
    fm.write_safetensors(root / "checkpoints" / "sd15.safetensors", fm.sd15_checkpoint())
    fm.write_safetensors(root / "loras" / "style" / "xl.safetensors", fm.sdxl_lora())
    fm.write_gguf(root / "unet" / "flux-q8.gguf", "flux", {"a": (4, 4)})
    (root / "checkpoints" / "old.ckpt").write_bytes(b"\x80\x04not loaded")
    (root / "loras" / "notes.txt").write_text("not a model")
    (root / "loras" / ".hidden.safetensors").write_bytes(b"x")


async def test_first_scan_indexes_models_and_reads_headers(data_dir: Path) -> None:
    library = make_library(data_dir)
    fill(library.main_root())
    summary = ScanSummary()
    events = await drain(library.scan(summary))
    assert isinstance(events[-1], Finished)
    assert (summary.files, summary.new, summary.opened) == (4, 4, 3)
    models = {m.relpath: m for m in await library.list_models()}
    assert sorted(models) == [
        "checkpoints/old.ckpt",
        "checkpoints/sd15.safetensors",
        "loras/style/xl.safetensors",
        "unet/flux-q8.gguf",
    ]
    assert models["unet/flux-q8.gguf"].folder == "diffusion_models"
    assert models["unet/flux-q8.gguf"].architecture == "Flux"
    assert models["loras/style/xl.safetensors"].kind == "lora"
    assert models["checkpoints/old.ckpt"].status == "pickle"
    assert models["checkpoints/sd15.safetensors"].added_at == 1_700_000_000.0
    folders = {f.folder: f.count for f in await library.folders()}
    assert folders == {"checkpoints": 2, "loras": 1, "diffusion_models": 1}


async def test_rescan_of_unchanged_files_opens_nothing(data_dir: Path) -> None:
    library = make_library(data_dir)
    fill(library.main_root())
    await drain(library.scan())
    summary = ScanSummary()
    with count_opens() as opened:
        await drain(library.scan(summary))
    root = str(library.main_root())
    assert [p for p in opened if p.startswith(root)] == []
    assert (summary.unchanged, summary.new, summary.changed, summary.opened) == (4, 0, 0, 0)


async def test_changed_new_and_vanished_files(data_dir: Path) -> None:
    library = make_library(data_dir)
    root = library.main_root()
    fill(root)
    await drain(library.scan())
    await drain(library.hash_models())
    lora = root / "loras" / "style" / "xl.safetensors"
    fm.write_safetensors(lora, fm.flux_lora())
    os.utime(lora, ns=(1, 1))  # a different mtime for sure
    (root / "checkpoints" / "sd15.safetensors").unlink()
    fm.write_safetensors(root / "vae" / "new.safetensors", fm.sd_vae())
    summary = ScanSummary()
    with count_opens() as opened:
        await drain(library.scan(summary))
    assert (summary.new, summary.changed, summary.removed, summary.unchanged) == (1, 1, 1, 2)
    assert sorted(p for p in opened if p.startswith(str(root))) == sorted(
        [str(lora), str(root / "vae" / "new.safetensors")]
    )
    models = {m.relpath: m for m in await library.list_models()}
    assert "checkpoints/sd15.safetensors" not in models
    assert models["loras/style/xl.safetensors"].architecture == "Flux"
    assert models["loras/style/xl.safetensors"].sha256 is None, "a changed file loses its hash"
    assert models["unet/flux-q8.gguf"].sha256 is not None


async def test_bad_files_are_unreadable_and_the_scan_goes_on(data_dir: Path) -> None:
    library = make_library(data_dir)
    root = library.main_root()
    (root / "checkpoints").mkdir(parents=True)
    (root / "checkpoints" / "claims-10gb.safetensors").write_bytes(
        (10 * 1024**3).to_bytes(8, "little")
    )
    (root / "checkpoints" / "garbage.safetensors").write_bytes(os.urandom(64))
    (root / "checkpoints" / "cut.gguf").write_bytes(b"GGUF\x03\x00")
    fm.write_safetensors(root / "checkpoints" / "good.safetensors", fm.sdxl_checkpoint())
    summary = ScanSummary()
    await drain(library.scan(summary))
    models = {m.name: m for m in await library.list_models()}
    assert summary.unreadable == 3
    assert models["good.safetensors"].status == "ok"
    assert "100.0 MiB" in models["claims-10gb.safetensors"].problem
    assert models["cut.gguf"].status == "unreadable"


async def test_symlink_loops_end_and_links_out_of_the_root_are_not_followed(
    data_dir: Path, tmp_path: Path
) -> None:
    library = make_library(data_dir)
    root = library.main_root()
    outside = tmp_path / "outside"
    fm.write_safetensors(outside / "secret.safetensors", fm.sd15_checkpoint())
    fm.write_safetensors(root / "loras" / "real.safetensors", fm.sd15_lora())
    os.symlink(root, root / "loras" / "loop")  # loops back to the root
    os.symlink("..", root / "loras" / "up")  # relative loop
    os.symlink(outside, root / "checkpoints")  # a folder that leaves the root
    os.symlink(outside / "secret.safetensors", root / "loras" / "escape.safetensors")
    os.symlink(root / "loras" / "real.safetensors", root / "loras" / "inside.safetensors")
    os.symlink(root / "nowhere", root / "loras" / "broken.safetensors")
    events = await drain(library.scan())
    names = sorted(m.relpath for m in await library.list_models())
    assert names == ["loras/inside.safetensors", "loras/real.safetensors"]
    lines = [e.text for e in events if isinstance(e, LogLine)]
    assert any("checkpoints: symlink leaves the root" in line for line in lines)
    assert any("escape.safetensors: symlink leaves the root" in line for line in lines)
    assert any("loop" in line for line in lines)


async def test_extra_roots_and_a_missing_root_keeps_its_rows(
    data_dir: Path, tmp_path: Path
) -> None:
    disk = tmp_path / "disk2"
    fm.write_safetensors(disk / "loras" / "far.safetensors", fm.sdxl_lora())
    library = make_library(data_dir, disk)
    await drain(library.scan())
    (found,) = await library.list_models()
    assert (found.root, found.relpath) == (str(disk), "loras/far.safetensors")
    disk.rename(tmp_path / "unmounted")
    events = await drain(library.scan())
    assert any(isinstance(e, LogLine) and "not found" in e.text for e in events)
    assert [m.relpath for m in await library.list_models()] == ["loras/far.safetensors"]
    forgotten = make_library(data_dir)  # the root is no longer configured
    await drain(forgotten.scan())
    assert await forgotten.list_models() == []


async def test_search_as_you_type(data_dir: Path) -> None:
    library = make_library(data_dir)
    root = library.main_root()
    fm.write_safetensors(root / "loras" / "pixel_art_xl.safetensors", fm.sdxl_lora())
    fm.write_safetensors(root / "checkpoints" / "dreamshaper_8.safetensors", fm.sd15_checkpoint())
    fm.write_safetensors(root / "unet" / "flux1-dev.safetensors", fm.flux_diffusion_model())
    await drain(library.scan())

    async def search(text: str, folder: str | None = None) -> list[str]:
        return [m.name for m in await library.list_models(text, folder)]

    assert await search("pix") == ["pixel_art_xl.safetensors"]
    assert await search("dream sha") == ["dreamshaper_8.safetensors"]
    assert await search("sdxl") == ["pixel_art_xl.safetensors"]
    assert await search("flux") == ["flux1-dev.safetensors"]
    assert await search("lora") == ["pixel_art_xl.safetensors"]
    assert await search("diffusion") == ["flux1-dev.safetensors"]
    assert await search('" OR *') == await search("")
    assert await search("", "loras") == ["pixel_art_xl.safetensors"]
    assert await search("nothing-like-it") == []


async def test_nested_roots_are_indexed_once(data_dir: Path, tmp_path: Path) -> None:
    probe = make_library(data_dir)
    inner = probe.main_root() / "loras"
    disk = tmp_path / "disk"
    library = make_library(data_dir, inner, disk, disk / "sub", disk)
    assert library.roots() == [library.main_root(), disk]

"""A small, fixed model library on disk for the Models screen's Pilot and snapshot tests."""

from __future__ import annotations

from pathlib import Path

from comfy_tui.paths import DataPaths
from comfy_tui.services.library.service import LibraryService
from comfy_tui.settings import Settings
from comfy_tui.store.version_records import VersionRecord, save_record
from tests.fakes import models as fm
from tests.integration.library_helpers import drain


def library_for(data_dir: Path) -> LibraryService:
    return LibraryService(Settings(data_dir=data_dir), DataPaths(data_dir), clock=lambda: 0.0)


def write_files(data_dir: Path) -> Path:
    """Six models: two hashed, a pickle, an unreadable file; two installed versions."""
    root = DataPaths(data_dir).library_models()
    fm.write_safetensors(root / "checkpoints" / "sd_xl_base_1.0.safetensors", fm.sdxl_checkpoint())
    fm.write_safetensors(root / "checkpoints" / "dreamshaper_8.safetensors", fm.sd15_checkpoint())
    (root / "checkpoints" / "legacy_v1.ckpt").write_bytes(b"\x80\x04pickle, never loaded")
    fm.write_safetensors(
        root / "loras" / "style" / "pixel_art_xl.safetensors",
        fm.sdxl_lora(),
        {"ss_base_model_version": "sdxl_base_v1-0", "ss_network_dim": "32"},
    )
    fm.write_gguf(root / "unet" / "flux1-dev-Q8_0.gguf", "flux", {"img_in.weight": (64, 32)})
    (root / "vae" / "broken.safetensors").parent.mkdir(parents=True)
    (root / "vae" / "broken.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{")
    for tag in ("v0.3.76", "v0.3.77"):
        save_record(
            DataPaths(data_dir),
            VersionRecord(tag=tag, path=str(data_dir / "versions" / tag), python="/bin/false"),
        )
    return root


async def populate(data_dir: Path) -> LibraryService:
    write_files(data_dir)
    library = library_for(data_dir)
    await drain(library.scan())
    hashed = [m.id or 0 for m in await library.list_models() if "xl" in m.name]
    await drain(library.hash_models(hashed))
    return library

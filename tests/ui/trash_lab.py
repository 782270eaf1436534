"""A fixed trash on disk for the Trash view's tests: a model, a version's folders, a node.

Sizes and times come from the entries' manifests (fixed here), so nothing on screen depends on
the machine; the trash service's clock is pinned to `NOW`.
"""

from __future__ import annotations

from pathlib import Path

from comfy_tui.paths import DataPaths
from comfy_tui.services.container import Services
from comfy_tui.services.trash_service import TrashService
from comfy_tui.store.jsonfile import write_json
from tests.fakes import models as fm

NOW = 1_764_900_000.0
HOUR = 3600.0


def fill_trash(data_dir: Path) -> None:
    paths = DataPaths(data_dir)
    model = paths.library_trash() / "1764896400-0a1b2c3d"
    fm.write_safetensors(model / "pixel_art_xl.safetensors", fm.sdxl_lora())
    write_json(
        model / "entry.json",
        {
            "root": str(paths.library_models()),
            "relpath": "loras/style/pixel_art_xl.safetensors",
            "sha256": None,
            "size": 228_000_000,
            "removed_at": NOW - HOUR,
        },
    )
    version = paths.trash_dir() / "1764813600-4e5f6a7b"
    (version / "user" / "default").mkdir(parents=True)
    (version / "user" / "default" / "portrait.json").write_text("{}")
    (version / "output").mkdir()
    (version / "output" / "img_00001.png").write_bytes(b"png")
    write_json(
        version / "entry.json",
        {
            "kind": "version",
            "name": "v0.3.76",
            "parts": ["output", "user"],
            "removed_at": NOW - 24 * HOUR,
            "record": {},
            "size": 48_500_000,
        },
    )
    node = paths.trash_dir() / "1764554400-8c9d0e1f"
    (node / "checkout").mkdir(parents=True)
    (node / "checkout" / "nodes.py").write_text("")
    write_json(
        node / "entry.json",
        {
            "kind": "node",
            "name": "ComfyUI-Thing",
            "parts": ["checkout"],
            "removed_at": NOW - 4 * 24 * HOUR,
            "record": {"name": "ComfyUI-Thing", "url": "https://github.com/o/ComfyUI-Thing"},
            "size": 1_200_000,
        },
    )


def pinned_trash(services: Services) -> Services:
    """The app's trash service with its clock at `NOW` (for `make_test_app(services=...)`)."""
    services.trash = TrashService(
        services.settings, services.paths, services.library, clock=lambda: NOW
    )
    return services

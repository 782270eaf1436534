"""The Models screen with CivitAI answers in the index: search finds a model by its trigger
words, and the detail pane shows its CivitAI name, base model and triggers."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from comfy_tui.store.civitai_index import CivitaiInfo, put_civitai
from comfy_tui.store.db import connect
from tests.ui.app_factory import LARGE, make_test_app
from tests.ui.fake_library import populate
from tests.ui.test_models_screen import detail, names, settle


async def test_search_and_detail_use_what_civitai_said(data_dir: Path) -> None:
    library = await populate(data_dir)
    (lora,) = [m for m in await library.list_models() if m.name == "pixel_art_xl.safetensors"]
    assert lora.sha256
    info = CivitaiInfo(lora.sha256, True, 0.0, 1234, 4567, "Pixel Art XL", "v1.1", "LORA",
                       "SDXL 1.0", ("pixelart style", "8bit"))  # fmt: skip
    async with connect(library.db_path) as db:
        await put_civitai(db, info)
        await db.commit()
    app = make_test_app(data_dir)
    async with app.run_test(size=LARGE) as pilot:
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("slash", *"8bit")
        await settle(pilot)
        assert names(app) == ["style/pixel_art_xl"]
        await pilot.press("escape")
        await settle(pilot)
        shown = detail(app)
        assert "civitai: Pixel Art XL — v1.1 · SDXL 1.0" in shown
        assert "triggers: pixelart style, 8bit" in shown
        app.screen.query_one("#models-search", Input).value = "dreamshaper"
        await settle(pilot)
        assert names(app) == ["dreamshaper_8"] and "civitai" not in detail(app)


async def test_c_asks_civitai_about_the_selected_model_hashing_it_first(data_dir: Path) -> None:
    """`models info MODEL --civitai` from the Models screen at 80x24: the unhashed model is
    hashed, looked up by sha256 on a fake CivitAI, and the detail shows the answer."""
    import hashlib
    import json

    from tests.fakes.download_server import DownloadServer, ThreadedServer
    from tests.integration.test_models_civitai_info import by_hash
    from tests.ui.app_factory import SMALL
    from tests.ui.test_models_screen import names
    from tests.waiting import until

    library = await populate(data_dir)
    (model,) = [m for m in await library.list_models() if m.name == "dreamshaper_8.safetensors"]
    sha = hashlib.sha256(model.path.read_bytes()).hexdigest()
    with ThreadedServer(DownloadServer()) as civitai:
        civitai.add(f"/api/v1/model-versions/by-hash/{sha}", json.dumps(by_hash(sha)).encode())
        app = make_test_app(data_dir, settings={"civitai_api": civitai.base})
        async with app.run_test(size=SMALL) as pilot:
            await pilot.press("2")
            await settle(pilot)
            await pilot.press("slash", *"dreamshaper")
            await settle(pilot)
            assert names(app) == ["dreamshaper_8"]
            await pilot.press("escape")
            await settle(pilot)
            assert "civitai" not in detail(app) and not civitai.requests  # never unasked
            await pilot.press("C")
            await until(pilot, lambda: "civitai: Pixel Art XL" in detail(app), "the answer")
            assert len(civitai.seen(f"/api/v1/model-versions/by-hash/{sha}")) == 1

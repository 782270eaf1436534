"""The data-dir layout and how its root is chosen."""

from __future__ import annotations

import stat
from pathlib import Path

from comfy_tui.paths import DataPaths, resolve_data_dir, styles_dir


def test_root_precedence(tmp_path: Path) -> None:
    env = {"COMFY_TUI_HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(tmp_path / "xdg")}
    assert resolve_data_dir(str(tmp_path / "flag"), env) == tmp_path / "flag"
    assert resolve_data_dir(None, env) == tmp_path / "home"
    assert resolve_data_dir(None, {"XDG_DATA_HOME": str(tmp_path / "xdg")}) == (
        tmp_path / "xdg" / "comfy-tui"
    )
    assert resolve_data_dir(None, {"HOME": str(tmp_path)}) == (
        tmp_path / ".local" / "share" / "comfy-tui"
    )


def test_folders_are_created_on_demand_with_a_private_root(tmp_path: Path) -> None:
    paths = DataPaths(tmp_path / "data")
    assert not paths.root.exists()
    assert paths.settings_file == tmp_path / "data" / "settings.toml"
    assert not paths.root.exists(), "asking for the settings file creates nothing"
    record = paths.version_record("v0.3.77")
    assert record == paths.root / "metadata" / "versions" / "v0.3.77.json"
    assert record.parent.is_dir()
    assert stat.S_IMODE(paths.root.stat().st_mode) == 0o700
    assert paths.comfyui_mirror() == paths.root / "mirrors" / "ComfyUI.git"
    assert paths.version_dir("v1") == paths.root / "versions" / "v1"
    assert paths.instance_record("a1") == paths.root / "instances" / "a1.json"
    assert paths.instance_log("a1") == paths.root / "logs" / "a1.log"
    assert paths.app_log() == paths.root / "logs" / "comfy-tui.log"
    assert paths.library_db() == paths.root / "library" / "library.db"
    assert paths.library_models().is_dir()
    assert paths.uv_cache() == paths.root / "cache" / "uv"
    assert paths.github_cache() == paths.root / "metadata" / "github_cache.json"
    assert paths.nodes_dir().is_dir()


def test_an_existing_root_and_its_folders_keep_their_mode(tmp_path: Path) -> None:
    root = tmp_path / "data"
    (root / "metadata").mkdir(parents=True)
    root.chmod(0o750)
    (root / "metadata").chmod(0o770)
    paths = DataPaths(root)
    paths.ensure_root()
    paths.version_records_dir()
    paths.logs_dir()
    assert stat.S_IMODE(root.stat().st_mode) == 0o750
    assert stat.S_IMODE((root / "metadata").stat().st_mode) == 0o770
    assert stat.S_IMODE((root / "metadata" / "versions").stat().st_mode) == 0o700  # new
    assert stat.S_IMODE((root / "logs").stat().st_mode) == 0o700


def test_styles_dir_has_the_stylesheets() -> None:
    names = ("app.tcss", "versions.tcss", "models.tcss", "monitor.tcss", "dialogs.tcss")
    for name in (*names, "version_dialogs.tcss"):
        assert (styles_dir() / name).is_file()

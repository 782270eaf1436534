"""The data-directory layout (docs/architecture.md): one method per place, created on demand."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

APP_NAME = "comfy-tui"
_PACKAGE_DIR = Path(__file__).resolve().parent


def resolve_data_dir(cli_value: str | os.PathLike[str] | None, env: Mapping[str, str]) -> Path:
    """Pick the data dir: `--data-dir`, else `COMFY_TUI_HOME`, else `$XDG_DATA_HOME/comfy-tui`."""
    if cli_value:
        return Path(cli_value).expanduser().absolute()
    home = env.get("COMFY_TUI_HOME")
    if home:
        return Path(home).expanduser().absolute()
    xdg = env.get("XDG_DATA_HOME")
    base = (
        Path(xdg).expanduser() if xdg else Path(env.get("HOME", "~")).expanduser() / ".local/share"
    )
    return (base / APP_NAME).absolute()


def styles_dir() -> Path:
    """The `.tcss` folder: in the installed package (wheel) or the repo's `styles/` (editable)."""
    packaged = _PACKAGE_DIR / "styles"
    if packaged.is_dir():
        return packaged
    return _PACKAGE_DIR.parent / "styles"


def _mkdir(path: Path, mode: int = 0o700) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=mode)
    return path


class DataPaths:
    """Every place comfy-tui keeps state, under one root. Folders are made when first asked for.

    A plain class, equal by its root: every command builds one, and a dataclass would import
    `dataclasses` (and `inspect`, `ast`) into commands that make no other."""

    __slots__ = ("_root",)

    def __init__(self, root: Path) -> None:
        self._root = root

    @property
    def root(self) -> Path:
        return self._root

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DataPaths) and other._root == self._root

    def __hash__(self) -> int:
        return hash(self._root)

    def __repr__(self) -> str:
        return f"DataPaths(root={self._root!r})"

    def ensure_root(self) -> Path:
        """Create the root (mode 0700: it holds logs and settings that may carry tokens).

        A folder that already exists keeps its mode: the user chose it (a shared or group
        folder), and comfy-tui never changes the permissions of what it did not create."""
        _mkdir(self.root)
        return self.root

    def _dir(self, *parts: str) -> Path:
        self.ensure_root()
        return _mkdir(self.root.joinpath(*parts))

    # --- files at the root -------------------------------------------------------------
    @property
    def settings_file(self) -> Path:
        return self.root / "settings.toml"

    # --- metadata ------------------------------------------------------------------------
    def metadata_dir(self) -> Path:
        return self._dir("metadata")

    def version_records_dir(self) -> Path:
        return self._dir("metadata", "versions")

    def version_record(self, tag: str) -> Path:
        return self.version_records_dir() / f"{tag}.json"

    def github_cache(self) -> Path:
        return self.metadata_dir() / "github_cache.json"

    def downloads_queue(self) -> Path:
        return self.metadata_dir() / "downloads.json"

    def snapshots_dir(self, tag: str) -> Path:
        return self._dir("metadata", "snapshots", tag)

    def snapshot_file(self, tag: str, snapshot_id: str) -> Path:
        """One environment snapshot of version `tag`."""
        return self.snapshots_dir(tag) / f"{snapshot_id}.json"

    def node_records_dir(self) -> Path:
        return self._dir("metadata", "nodes")

    def node_record(self, name: str) -> Path:
        """The record of a shared custom node (written last: the node exists iff it does)."""
        return self.node_records_dir() / f"{name}.json"

    def node_packages(self, tag: str) -> Path:
        """Which node brought which package into version `tag` (for `comfy-tui audit`)."""
        return self._dir("metadata", "node_packages") / f"{tag}.json"

    def node_lock(self, name: str) -> Path:
        """Held while a shared node is cloned, updated or removed (by any process)."""
        return self._dir("metadata", "locks") / f"node-{name}.lock"

    # --- git mirror and versions ---------------------------------------------------------
    def mirrors_dir(self) -> Path:
        return self._dir("mirrors")

    def comfyui_mirror(self) -> Path:
        return self.mirrors_dir() / "ComfyUI.git"

    def versions_dir(self) -> Path:
        return self._dir("versions")

    def version_dir(self, tag: str) -> Path:
        return self.versions_dir() / tag

    def install_lock(self, tag: str) -> Path:
        """Held while `tag` is installed or removed (by any process)."""
        return self._dir("metadata", "locks") / f"install-{tag}.lock"

    def install_log(self, tag: str) -> Path:
        """The output of the last install of `tag`."""
        return self.logs_dir() / f"install-{tag}.log"

    # --- instances and logs --------------------------------------------------------------
    def instances_dir(self) -> Path:
        return self._dir("instances")

    def instance_record(self, instance_id: str) -> Path:
        return self.instances_dir() / f"{instance_id}.json"

    def instance_dir(self, instance_id: str) -> Path:
        """An instance's own files: its database, temp folder and restart marker."""
        return self._dir("instances", instance_id)

    def logs_dir(self) -> Path:
        return self._dir("logs")

    def instance_log(self, instance_id: str) -> Path:
        return self.logs_dir() / f"{instance_id}.log"

    def app_log(self) -> Path:
        return self.logs_dir() / "comfy-tui.log"

    # --- model library, nodes, caches ----------------------------------------------------
    def library_dir(self) -> Path:
        return self._dir("library")

    def library_models(self) -> Path:
        return self._dir("library", "models")

    def library_db(self) -> Path:
        return self.library_dir() / "library.db"

    def library_staging(self) -> Path:
        """Imports build here (same filesystem as library/models), then rename into place."""
        return self._dir("library", ".staging")

    def library_trash(self) -> Path:
        return self._dir("library", ".trash")

    def library_lock(self) -> Path:
        """Held while an import, dedupe or removal changes the library's files."""
        return self.library_dir() / ".lock"

    def trash_dir(self) -> Path:
        """What removing a version (its user/, output/, input/) or a node put aside."""
        return self._dir("trash")

    def model_paths_config(self, tag: str) -> Path:
        """The generated extra_model_paths.yaml that points version `tag` at the library."""
        return self._dir("metadata", "model_paths") / f"{tag}.yaml"

    def nodes_dir(self) -> Path:
        return self._dir("nodes")

    def node_dir(self, name: str) -> Path:
        """The shared checkout of one custom node."""
        return self.nodes_dir() / name

    def cache_dir(self) -> Path:
        return self._dir("cache")

    def uv_cache(self) -> Path:
        return self._dir("cache", "uv")

    def pip_cache(self) -> Path:
        return self._dir("cache", "pip")

"""Installed-version records: `metadata/versions/<tag>.json`, written last when an install succeeds.

A version counts as installed only if its record exists: the installer moves the finished
staging dir to `versions/<tag>/` and then writes the record, atomically. The default version is
kept in `metadata/default_version.json`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from comfy_tui.errors import MetadataError
from comfy_tui.paths import DataPaths
from comfy_tui.store.jsonfile import read_json, update_json, write_json

SCHEMA = 1


@dataclass(frozen=True)
class VersionRecord:
    """What an install produced and measured."""

    tag: str
    path: str  # versions/<tag>, absolute
    python: str  # the venv's interpreter, absolute
    commit: str = ""
    comfyui_version: str = ""
    python_version: str = ""
    torch_version: str = ""
    torch_backend: str = ""  # "cu128", "cpu", "none", ...
    torch_index: str = ""  # the index torch came from; "" = the configured package sources
    torch_build: str = ""  # what torch itself says: "CUDA 13.0", "CPU", "ROCm 6.2", ""
    smoke: str = ""  # "quick test passed", "help only ...", "packages quick-tested in v..."
    resolution: str = ""  # the date cut-off applied: "as of 2025-12-04[, except a, b]", ""
    deps_key: str = ""  # the dependency set's id (disk_usage.deps_key)
    installer: str = "uv"  # "uv" or "pip"
    installed_at: float = 0.0  # unix time
    size_bytes: int = 0
    step_seconds: dict[str, float] = field(default_factory=dict)
    flags: tuple[str, ...] = ()  # every flag `main.py --help` accepts, e.g. "--cuda-device"
    adopted: str = ""  # the folder `comfy-tui adopt` was given ("" = installed by comfy-tui)
    ref: str = ""  # the branch, tag or commit installed or updated to ("" = the tag `tag`)

    def accepts(self, flag: str) -> bool:
        return flag in self.flags

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["flags"] = list(self.flags)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any], source: Path) -> VersionRecord:
        try:
            return cls(
                **{
                    **data,
                    "flags": tuple(data.get("flags", ())),
                    "step_seconds": dict(data.get("step_seconds", {})),
                }
            )
        except TypeError as exc:
            raise MetadataError(f"version record {source} has unexpected fields ({exc})") from exc


def save_record(paths: DataPaths, record: VersionRecord) -> None:
    write_json(paths.version_record(record.tag), record.to_json(), schema=SCHEMA)


def load_record(paths: DataPaths, tag: str) -> VersionRecord | None:
    path = paths.version_record(tag)
    if not path.exists() and not path.with_name(path.name + ".bak").exists():
        return None
    return VersionRecord.from_json(read_json(path, schema=SCHEMA), path)


def list_records(paths: DataPaths) -> list[VersionRecord]:
    """Every installed version, in file-name order (callers sort by version)."""
    records = []
    for path in sorted(paths.version_records_dir().glob("*.json")):
        records.append(VersionRecord.from_json(read_json(path, schema=SCHEMA), path))
    return records


def delete_record(paths: DataPaths, tag: str) -> None:
    """Forget a version (the record goes first, then the caller removes the files)."""
    path = paths.version_record(tag)
    for p in (path, path.with_name(path.name + ".bak")):
        p.unlink(missing_ok=True)
    if get_default(paths) == tag:
        set_default(paths, None)


def _default_file(paths: DataPaths) -> Path:
    return paths.metadata_dir() / "default_version.json"


def get_default(paths: DataPaths) -> str | None:
    value = read_json(_default_file(paths), default={}).get("tag")
    return value if isinstance(value, str) else None


def set_default(paths: DataPaths, tag: str | None) -> None:
    update_json(_default_file(paths), lambda _: {"tag": tag}, default={})

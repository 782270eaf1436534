"""Size before install: the release list's estimate from an index that gives wheel sizes, the
size cache after an install, and the free-space refusal (with `--force` going on anyway).

The index is a real HTTP server on 127.0.0.1 (tests/fakes/pep691_index.py) whose wheels have
known sizes; the resolution is uv's own (`uv pip compile`), and no wheel is downloaded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from comfy_tui.core.size_estimate import DISK_PER_DOWNLOAD
from comfy_tui.errors import InstallError
from comfy_tui.events import LogLine
from comfy_tui.paths import DataPaths
from comfy_tui.services.versions import VersionsService
from tests.cli_run import run_cli
from tests.fakes.comfyui_repo import FakeTag, build_comfyui_repo
from tests.fakes.guards import real_guard
from tests.fakes.install_fixtures import cli_env, install_settings_for
from tests.fakes.pep691_index import SizedIndex, ThreadedIndex
from tests.fakes.wheelhouse import build_wheel
from tests.ui.app_factory import OFFLINE_GITHUB

TAGS = [FakeTag("v0.4.0"), FakeTag("v0.4.1", requirements="torch\ntinydep\n")]


def sized_wheels(folder: Path) -> dict[str, int]:
    """torch, torchvision and tinydep with incompressible payloads; name -> wheel bytes."""
    payloads = {"torch": 300_000, "torchvision": 120_000, "tinydep": 20_000}
    for name, size in payloads.items():
        requires = ["torch"] if name == "torchvision" else []
        build_wheel(
            folder,
            name,
            {"torch": "2.5.1", "torchvision": "0.20.1"}.get(name, "1.0"),
            requires=requires,
            files={f"{name}/blob.bin": os.urandom(size), f"{name}/__init__.py": ""},
        )
    return {w.name.split("-", 1)[0]: w.stat().st_size for w in folder.glob("*.whl")}


def releases(data_dir: Path, env: dict[str, str], *args: str) -> dict[str, dict[str, Any]]:
    done = run_cli(data_dir, "releases", "--json", *args, env=env)
    assert done.returncode == 0, done.stderr
    return {r["tag"]: r for r in json.loads(done.stdout)["releases"]}


def test_the_release_list_sizes_each_tag_from_the_index_without_downloading(
    tmp_path: Path, data_dir: Path
) -> None:
    upstream = build_comfyui_repo(tmp_path / "up", TAGS)
    mirror = DataPaths(data_dir).comfyui_mirror()
    subprocess.run(["git", "clone", "-q", "--bare", str(upstream), str(mirror)], check=True)
    sizes = sized_wheels(tmp_path / "wheels")
    with ThreadedIndex(SizedIndex(tmp_path / "wheels")) as index:
        env = {
            **cli_env(install_settings_for(data_dir, upstream, tmp_path / "none")),
            "COMFY_TUI_FIND_LINKS": "",
            "COMFY_TUI_INDEX_URL": index.url,
            "COMFY_TUI_TORCH_INDEX_URL": "sources",
            "COMFY_TUI_GITHUB_API": OFFLINE_GITHUB,
        }
        known = releases(data_dir, env)
        assert known["v0.4.0"]["estimated_bytes"] is None, "nothing measured, nothing resolved"
        assert index.requests == []

        listed = releases(data_dir, env, "--estimate")
        full = sum(sizes.values())
        assert listed["v0.4.0"]["estimated_download_bytes"] == full
        assert listed["v0.4.0"]["estimated_bytes"] == full * DISK_PER_DOWNLOAD
        assert listed["v0.4.0"]["estimate_basis"] == "the wheel sizes of 3 packages"
        small = sizes["torch"] + sizes["tinydep"]
        assert listed["v0.4.1"]["estimated_download_bytes"] == small
        assert index.wheel_downloads() == [], "sizes come from the index, not from downloads"

        asked = len(index.requests)
        again = releases(data_dir, env)  # from the size cache: the index is not asked
        assert again["v0.4.0"]["estimated_bytes"] == full * DISK_PER_DOWNLOAD
        assert len(index.requests) == asked
    text = subprocess.run(
        [sys.executable, "-m", "comfy_tui", "--data-dir", str(data_dir), "releases"],
        capture_output=True, text=True, env=env, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert "SIZE" in text.splitlines()[0] and "KiB / " in text


def service_for(data_dir: Path, upstream: Path, wheelhouse: Path) -> VersionsService:
    settings = install_settings_for(data_dir, upstream, wheelhouse)
    paths = DataPaths(data_dir)
    return VersionsService(settings, paths, guard=real_guard(paths), detect_gpu=lambda: None)


async def test_the_disk_check_uses_the_wheel_sizes_and_force_goes_on(
    tmp_path: Path, data_dir: Path, wheelhouse: Path
) -> None:
    upstream = build_comfyui_repo(tmp_path / "up", TAGS)
    service = service_for(data_dir, upstream, wheelhouse)
    service.installer.free_space = lambda path: 1 << 30  # below the 3 GiB guess for cpu
    async for _ in service.install("v0.4.0", "cpu"):  # the wheels are far below 1 GiB
        pass
    assert await service.get("v0.4.0") is not None
    sized = json.loads((data_dir / "metadata" / "size_estimates.json").read_text())
    assert len([k for k in sized if k != "schema_version"]) == 1, "the tight guess was measured"

    service.installer.free_space = lambda path: 1536
    with pytest.raises(InstallError) as refused:
        async for _ in service.install("v0.4.1", "cpu"):
            pass
    message = str(refused.value)
    assert "not enough free disk for v0.4.1: it needs about" in message
    assert "(from the wheel sizes of " in message and "1.5 KiB is free under" in message
    assert message.endswith("(--force tries anyway)")
    assert not (data_dir / "versions" / "v0.4.1").exists()

    noted = []
    async for event in service.install("v0.4.1", "cpu", force=True):
        if isinstance(event, LogLine):
            noted.append(event.text)
    assert any("installing anyway (--force)" in line for line in noted)
    assert await service.get("v0.4.1") is not None


async def test_an_installed_set_is_known_to_the_release_list(
    tmp_path: Path, data_dir: Path, wheelhouse: Path
) -> None:
    upstream = build_comfyui_repo(tmp_path / "up", TAGS)
    service = service_for(data_dir, upstream, wheelhouse)
    readings = iter([100 << 30, (100 << 30) - (5 << 20)])  # before and after: 5 MiB used
    service.installer.free_space = lambda path: next(readings)  # other tests share the disk
    async for _ in service.install("v0.4.1", "cpu"):
        pass
    estimates = await service.size_estimates(["v0.4.0", "v0.4.1"])
    assert set(estimates) == {"v0.4.1"}, "v0.4.0's set was neither installed nor resolved"
    assert estimates["v0.4.1"].basis == "an earlier install of the same packages"
    assert estimates["v0.4.1"].disk_bytes == 5 << 20


async def test_a_limit_bounds_the_resolutions_and_the_torch_source_is_probed_once(
    tmp_path: Path, data_dir: Path
) -> None:
    from comfy_tui.services.size_estimate import InstallTarget, SizeEstimator

    upstream = build_comfyui_repo(tmp_path / "up", TAGS)
    mirror = DataPaths(data_dir).comfyui_mirror()
    subprocess.run(["git", "clone", "-q", "--bare", str(upstream), str(mirror)], check=True)
    sized_wheels(tmp_path / "wheels")
    probed: list[str] = []

    async def probe(url: str, timeout: float = 4.0) -> str:
        probed.append(url)
        return "unreachable (test)"  # cpu then takes torch from the package sources

    async with SizedIndex(tmp_path / "wheels") as index:
        settings = install_settings_for(
            data_dir, upstream, tmp_path / "none", find_links=(), index_url=index.url
        )
        estimator = SizeEstimator(settings, DataPaths(data_dir), probe=probe)
        target = InstallTarget("cpu", sys.executable, None)
        first = await estimator.for_tags(["v0.4.1", "v0.4.0"], target, resolve=True, limit=1)
        assert set(first) == {"v0.4.1"}
        both = await estimator.for_tags(["v0.4.1", "v0.4.0"], target, resolve=True, limit=1)
        assert set(both) == {"v0.4.1", "v0.4.0"}
    assert len(probed) == 1 and probed[0].endswith("/cpu")

"""`versions --json` disk figures against `du`, and the free-space check before an install."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from comfy_tui.errors import InstallError
from comfy_tui.paths import DataPaths
from comfy_tui.services.versions import VersionsService
from tests.fakes.comfyui_repo import FakeTag, build_comfyui_repo
from tests.fakes.guards import real_guard
from tests.fakes.install_fixtures import cli_env, install_settings_for

pytestmark = pytest.mark.usefixtures("no_leftover_children")


def du(path: Path) -> int:
    done = subprocess.run(
        ["du", "-s", "-B1", str(path)], capture_output=True, text=True, check=True
    )
    return int(done.stdout.split()[0])


async def test_two_versions_add_up_to_du(data_dir: Path, tmp_path: Path, wheelhouse: Path) -> None:
    upstream = build_comfyui_repo(tmp_path / "up", [FakeTag("v0.4.0"), FakeTag("v0.4.1")])
    settings = install_settings_for(data_dir, upstream, wheelhouse)
    paths = DataPaths(data_dir)
    service = VersionsService(settings, paths, guard=real_guard(paths), detect_gpu=lambda: None)
    for tag in ("v0.4.0", "v0.4.1"):
        async for _ in service.install(tag, "cpu"):
            pass
    run = subprocess.run(
        [sys.executable, "-m", "comfy_tui", "--data-dir", str(data_dir), "versions", "--json"],
        capture_output=True, text=True, env=cli_env(settings), timeout=60, check=True,
    )  # fmt: skip
    document = json.loads(run.stdout)
    versions = data_dir / "versions"
    assert document["total_disk_bytes"] == du(versions)
    for entry in document["versions"]:
        alone = du(versions / entry["tag"])
        assert entry["disk_bytes"] > 0 and entry["shared_bytes"] > 0  # the uv cache holds links
        assert entry["disk_bytes"] + entry["shared_bytes"] == alone
    assert sum(e["disk_bytes"] for e in document["versions"]) < document["total_disk_bytes"]
    text = subprocess.run(
        [sys.executable, "-m", "comfy_tui", "--data-dir", str(data_dir), "versions"],
        capture_output=True, text=True, env=cli_env(settings), timeout=60, check=True,
    ).stdout  # fmt: skip
    assert "OWN" in text and "SHARED" in text and "iB in all" in text


async def test_a_shortfall_is_refused_with_both_numbers(
    install_settings: object, data_dir: Path
) -> None:
    paths = DataPaths(data_dir)
    service = VersionsService(
        install_settings,  # type: ignore[arg-type]
        paths,
        guard=real_guard(paths),
        detect_gpu=lambda: None,
    )
    service.installer.free_space = lambda path: 1536
    with pytest.raises(InstallError, match=r"needs about .* KiB .*, 1\.5 KiB is free under"):
        async for _ in service.install("v0.4.0", "cpu"):
            pass
    assert [p.name for p in (data_dir / "versions").iterdir()] == []

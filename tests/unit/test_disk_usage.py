"""Disk figures that add up: own vs shared per version, every inode once in the total."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from comfy_tui.paths import DataPaths
from comfy_tui.services.disk_usage import (
    deps_key,
    estimate_need,
    measure_versions,
    own_bytes,
    remember_growth,
)


def blocks(path: Path) -> int:
    return os.lstat(path).st_blocks * 512


def test_own_shared_and_total(tmp_path: Path) -> None:
    root = tmp_path / "versions"
    a, b, cache = root / "a", root / "b", tmp_path / "cache"
    for d in (a, b, cache):
        d.mkdir(parents=True)
    (a / "alone").write_bytes(os.urandom(50_000))
    (a / "both").write_bytes(os.urandom(70_000))
    os.link(a / "both", b / "both")
    (cache / "cached").write_bytes(os.urandom(90_000))
    os.link(cache / "cached", a / "cached")
    os.link(a / "alone", a / "alone-again")  # a second link inside the same version

    report = measure_versions(root, ["a", "b"])
    alone, both, cached = blocks(a / "alone"), blocks(a / "both"), blocks(a / "cached")
    assert report.versions["a"].disk_bytes == alone + blocks(a)
    assert report.versions["a"].shared_bytes == both + cached
    assert report.versions["b"].disk_bytes == blocks(b)
    assert report.versions["b"].shared_bytes == both
    du = int(subprocess.run(["du", "-s", "-B1", str(root)], capture_output=True, text=True,
                            check=True).stdout.split()[0])  # fmt: skip
    assert report.total_bytes == du
    assert own_bytes(a) == report.versions["a"].disk_bytes


def test_the_estimate_prefers_what_is_known(tmp_path: Path) -> None:
    paths = DataPaths(tmp_path)
    key = deps_key("torch\n", "cpu", "/usr/bin/python3", None)
    assert key != deps_key("torch\n", "cu130", "/usr/bin/python3", None)
    need, basis = estimate_need(paths, key, "cpu", None)
    assert (need, basis) == (3 << 30, "a first cpu install")
    remember_growth(paths, key, 1000)
    assert estimate_need(paths, key, "cpu", None) == (
        1100,
        "an earlier install of the same packages",
    )
    need, basis = estimate_need(paths, key, "cpu", 400)
    assert (need, basis) == (500, "an installed version of the same packages")

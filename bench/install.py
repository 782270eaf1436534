"""Install the fake ComfyUI twice with uv and once with pip; print seconds per step and disk use.

    python bench/install.py [--torch-mb 50]

Everything is offline: a fake upstream repo (tests/fakes/comfyui_repo.py) and a wheelhouse built
here whose fake torch wheel carries `--torch-mb` MB of incompressible data, so the disk numbers
show what the shared, hardlinked uv cache saves. Disk is measured like `du`: allocated blocks,
each inode counted once across the paths in the order shown (the second version is charged
only for what it does not share with the first). "orchestration" is the install's wall time
minus the same git/uv/python commands run by hand (venv + two `uv pip install`s + smoke test),
so it shows what comfy-tui adds on top of uv.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from comfy_tui.core.install_progress import STEPS
from comfy_tui.paths import DataPaths
from comfy_tui.services.container import Services
from comfy_tui.services.envs import child_env, find_uv
from comfy_tui.services.staging import du_bytes
from comfy_tui.services.versions import VersionsService
from comfy_tui.settings import Settings
from tests.fakes.comfyui_repo import build_comfyui_repo
from tests.fakes.wheelhouse import build_wheelhouse

MB = 1_000_000


def mb(n: int) -> str:
    return f"{n / MB:8.1f} MB"


async def install(service: VersionsService, tag: str) -> float:
    started = time.monotonic()
    async for _ in service.install(tag, "cpu"):
        pass
    return time.monotonic() - started


def run_series(
    root: Path, upstream: Path, wheelhouse: Path, installer: str, tags: list[str]
) -> None:
    data = root / f"data-{installer}"
    settings = Settings(
        data_dir=data,
        comfyui_repo=upstream.as_uri(),
        find_links=(wheelhouse.as_uri(),),
        python=sys.executable,
        installer=installer,
    )
    paths = DataPaths(data)
    guard = Services(settings).guard
    service = VersionsService(settings, paths, guard=guard, detect_gpu=lambda: None)
    print(f"\n== {installer}: {', '.join(tags)} (torch cpu, wheelhouse only)")
    print(f"{'version':10} {' '.join(f'{s:>12}' for s in STEPS)} {'total':>8} {'wall':>8}")
    walls = []
    for tag in tags:
        wall = asyncio.run(install(service, tag))
        walls.append(wall)
        record = asyncio.run(service.get(tag))
        assert record is not None
        steps = " ".join(f"{record.step_seconds.get(s, 0.0):11.2f}s" for s in STEPS)
        total = sum(record.step_seconds.values())
        print(f"{tag:10} {steps} {total:7.2f}s {wall:7.2f}s")
    sizes = du_bytes(*(paths.version_dir(t) for t in tags))
    for i, (tag, size) in enumerate(zip(tags, sizes, strict=True)):
        label = "first" if i == 0 else "second (what it adds)"
        print(f"disk {tag:10} {mb(size)}   {label}")
    cache = paths.uv_cache() if installer == "uv" else paths.pip_cache()
    versions_then_cache = du_bytes(*(paths.version_dir(t) for t in tags), cache)
    print(f"disk {installer} cache  {mb(versions_then_cache[-1])}   beyond the versions")
    print(f"disk mirror     {mb(du_bytes(paths.comfyui_mirror())[0])}")
    if installer == "uv":
        by_hand = raw_uv(root, upstream, wheelhouse, paths.uv_cache(), tags[-1])
        print(
            f"by hand (same commands, warm cache) {by_hand:.2f}s; "
            f"orchestration added {walls[-1] - by_hand:+.2f}s to the second install"
        )


def raw_uv(root: Path, upstream: Path, wheelhouse: Path, cache: Path, tag: str) -> float:
    """The second install's commands typed by hand: clone, venv, torch, requirements, smoke."""
    uv = find_uv()
    assert uv is not None
    work = root / f"by-hand-{tag}"
    env = child_env(os.environ, uv_cache=cache)
    common = ["--no-config", "--cache-dir", str(cache), "--link-mode", "hardlink"]
    common += ["--compile-bytecode", "--no-index", "--find-links", str(wheelhouse)]
    python = str(work / ".venv" / "bin" / "python")
    mirror = root / "data-uv" / "mirrors" / "ComfyUI.git"
    commands = [
        ["git", "clone", "-q", "--depth", "1", "--branch", tag, mirror.as_uri(), str(work)],
        [uv, "venv", "-q", "--no-config", "--python", sys.executable, str(work / ".venv")],
        [
            uv,
            "pip",
            "install",
            "-q",
            "--python",
            python,
            *common,
            "torch==2.5.1+cpu",
            "torchvision",
            "torchaudio",
        ],
        [uv, "pip", "install", "-q", "--python", python, *common, "-r", "requirements.txt"],
        [python, "main.py", "--help"],
        [python, "main.py", "--quick-test-for-ci", "--cpu"],
    ]
    started = time.monotonic()
    for argv in commands:
        cwd = work if work.exists() else root
        subprocess.run(argv, cwd=cwd, env=env, check=True, capture_output=True)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--torch-mb", type=int, default=50, help="size of the fake torch wheel")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="comfy-tui-bench-"))
    try:
        upstream = build_comfyui_repo(root / "upstream")
        payload = os.urandom(args.torch_mb * MB)
        wheelhouse = build_wheelhouse(root / "wheelhouse", labels=["cpu"], torch_payload=payload)
        print(f"fake torch wheel: {args.torch_mb} MB of data; python {sys.version.split()[0]}")
        uv_version = subprocess.run(
            [find_uv() or "uv", "--version"], capture_output=True, text=True
        )
        print(uv_version.stdout.strip())
        run_series(root, upstream, wheelhouse, "uv", ["v0.3.77", "v0.4.0"])
        run_series(root, upstream, wheelhouse, "pip", ["v0.3.77"])
    finally:
        if args.keep:
            print(f"\nkept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

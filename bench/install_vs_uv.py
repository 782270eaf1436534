"""comfy-tui installs against raw uv, cold and warm, on a real-sized dependency set (offline).

    python bench/install_vs_uv.py [--packages 40] [--mib 800] [--py-files 6000] [--keep]

Builds a wheelhouse of large incompressible wheels (a fake torch family plus `--packages`
packages, `--mib` MiB in all, `--py-files` Python files to byte-compile) and a fake ComfyUI
repo with two tags that need the same set. Then, in this one run:

- comfy-tui cold: `install v0.4.0` into a fresh data dir (empty uv cache);
- raw uv cold: `uv venv && uv pip install` of the same frozen set with a fresh cache;
- comfy-tui warm: `install v0.4.1` (the uv cache holds the set);
- raw uv warm: `uv venv && uv pip install` of the same set from that cache, hardlinked;
- the first and second launch of v0.4.1 (`comfy-tui launch`, spawn to `/system_stats`).

Prints each time and comfy-tui's cold and warm times as ratios to raw uv (goal: warm <= 2).
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from comfy_tui.core.units import format_bytes  # noqa: E402
from comfy_tui.paths import DataPaths  # noqa: E402
from comfy_tui.services.container import Services  # noqa: E402
from comfy_tui.services.envs import child_env, find_uv  # noqa: E402
from comfy_tui.services.versions import VersionsService  # noqa: E402
from comfy_tui.settings import Settings  # noqa: E402
from tests.fakes.comfyui_repo import REQUIREMENTS, FakeTag, build_comfyui_repo  # noqa: E402
from tests.fakes.wheelhouse import build_wheel, build_wheelhouse  # noqa: E402

MIB = 1 << 20
CODE = "".join(f"def f{i}(x):\n    return [x * {i} for _ in range(3)]\n\n" for i in range(20))


def build_set(wheelhouse: Path, packages: int, mib: int, py_files: int) -> list[str]:
    """The wheels; returns the requirement names beyond the fake ComfyUI's own."""
    torch_share = mib * 2 // 5
    build_wheelhouse(wheelhouse, labels=["cpu"], torch_payload=os.urandom(torch_share * MIB))
    each_mib = max(1, (mib - torch_share) // max(packages, 1))
    files_each = max(1, py_files // max(packages, 1))
    names = []
    for n in range(packages):
        name = f"bigdep{n:02d}"
        files: dict[str, str | bytes] = {f"{name}/__init__.py": f'__version__ = "1.0"\n{CODE}'}
        files.update({f"{name}/m{k}.py": CODE for k in range(files_each)})
        files[f"{name}/data.bin"] = os.urandom(each_mib * MIB)
        build_wheel(wheelhouse, name, "1.0", files=files)
        names.append(name)
    return names


async def comfy_install(service: VersionsService, tag: str) -> float:
    started = time.monotonic()
    async for _ in service.install(tag, "cpu"):
        pass
    return time.monotonic() - started


def raw_uv(venv: Path, cache: Path, wheelhouse: Path, frozen: Path) -> float:
    uv = find_uv()
    assert uv is not None
    env = child_env(os.environ, uv_cache=cache)
    started = time.monotonic()
    subprocess.run([uv, "venv", "-q", "--no-config", "--python", sys.executable, str(venv)],
                   env=env, check=True)  # fmt: skip
    subprocess.run(
        [uv, "pip", "install", "-q", "--no-config", "--python", str(venv / "bin" / "python"),
         "--cache-dir", str(cache), "--link-mode", "hardlink", "--no-index",
         "--find-links", str(wheelhouse), "-r", str(frozen)],
        env=env, check=True,
    )  # fmt: skip
    return time.monotonic() - started


def launch_time(data: Path, settings_env: dict[str, str], tag: str, port: int) -> float:
    cli = [sys.executable, "-m", "comfy_tui", "--data-dir", str(data)]
    started = time.monotonic()
    subprocess.run([*cli, "launch", tag, "--port", str(port)], env=settings_env, check=True,
                   capture_output=True)  # fmt: skip
    took = time.monotonic() - started
    subprocess.run([*cli, "stop", "--all"], env=settings_env, capture_output=True, check=False)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--packages", type=int, default=40)
    parser.add_argument("--mib", type=int, default=800, help="MiB of wheel data in all")
    parser.add_argument("--py-files", type=int, default=6000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="comfy-tui-bench-uv-"))
    try:
        wheelhouse = root / "wheelhouse"
        names = build_set(wheelhouse, args.packages, args.mib, args.py_files)
        requirements = REQUIREMENTS + "".join(f"{n}\n" for n in names)
        tags = [FakeTag("v0.4.0", requirements=requirements),
                FakeTag("v0.4.1", requirements=requirements)]  # fmt: skip
        upstream = build_comfyui_repo(root / "upstream", tags)
        print(f"set: torch family + {len(names)} packages, {args.mib} MiB of wheels, "
              f"~{args.py_files} .py files; python {sys.version.split()[0]}")  # fmt: skip

        data = root / "data"
        settings = Settings(
            data_dir=data,
            comfyui_repo=upstream.as_uri(),
            find_links=(wheelhouse.as_uri(),),
            python=sys.executable,
        )
        paths = DataPaths(data)
        service = VersionsService(settings, paths, guard=Services(settings).guard,
                                  detect_gpu=lambda: None)  # fmt: skip
        cold = asyncio.run(comfy_install(service, "v0.4.0"))
        frozen = root / "frozen.txt"
        uv = find_uv()
        assert uv is not None
        python = paths.version_dir("v0.4.0") / ".venv" / "bin" / "python"
        freeze = subprocess.run(
            [uv, "pip", "freeze", "--python", str(python)],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        frozen.write_text(freeze)
        raw_cold = raw_uv(root / "raw-cold", root / "raw-cache", wheelhouse, frozen)
        warm = asyncio.run(comfy_install(service, "v0.4.1"))
        raw_warm = raw_uv(root / "raw-warm", paths.uv_cache(), wheelhouse, frozen)
        record = asyncio.run(service.get("v0.4.1"))
        assert record is not None

        env = {k: v for k, v in os.environ.items() if not k.startswith("COMFY_TUI_")}
        env.update({"COMFY_TUI_COMFYUI_REPO": settings.comfyui_repo,
                    "COMFY_TUI_FIND_LINKS": wheelhouse.as_uri()})  # fmt: skip
        first = launch_time(data, env, "v0.4.1", 8391)
        second = launch_time(data, env, "v0.4.1", 8392)
        disk = asyncio.run(service.disk(["v0.4.0", "v0.4.1"]))

        print(f"comfy-tui cold  {cold:7.2f} s   raw uv cold  {raw_cold:7.2f} s   "
              f"ratio {cold / raw_cold:5.2f}")  # fmt: skip
        print(f"comfy-tui warm  {warm:7.2f} s   raw uv warm  {raw_warm:7.2f} s   "
              f"ratio {warm / raw_warm:5.2f}   (goal <= 2)")  # fmt: skip
        steps = ", ".join(f"{k} {v:.2f}" for k, v in record.step_seconds.items())
        print(f"warm steps (s): {steps}; smoke: {record.smoke}")
        print(f"first launch {first:.2f} s, second launch {second:.2f} s "
              f"(ratio {first / second:.2f})")  # fmt: skip
        for tag, figures in disk.versions.items():
            print(f"disk {tag}: own {format_bytes(figures.disk_bytes)}, "
                  f"shared {format_bytes(figures.shared_bytes)}")  # fmt: skip
        print(f"disk versions/ total {format_bytes(disk.total_bytes)}")
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()

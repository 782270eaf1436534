"""Model library benchmark: scan, rescan (and how many files it opens), hashing, search, TUI.

    python bench/library.py [--files 10000] [--hash-mb 1024] [--no-tui]

Prints one line per measurement with its target. Everything runs in a temporary folder.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from comfy_tui.paths import DataPaths
from comfy_tui.services.library.hashing import hash_file
from comfy_tui.services.library.scan import ScanSummary
from comfy_tui.services.library.service import LibraryService
from comfy_tui.settings import Settings

FOLDERS = ("checkpoints", "loras", "vae", "text_encoders", "diffusion_models", "controlnet")
_opened: list[str] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and args and isinstance(args[0], str | bytes):
        _opened.append(os.fsdecode(args[0]))


def small_safetensors(i: int) -> bytes:
    header = {
        "__metadata__": {"ss_base_model_version": "sdxl_base_v1-0", "n": str(i)},
        f"lora_unet_input_blocks_{i % 9}_1.lora_down.weight": {
            "dtype": "F16",
            "shape": [4, 4],
            "data_offsets": [0, 32],
        },
        "lora_te2_text_model_encoder_layers_0.lora_up.weight": {
            "dtype": "F16",
            "shape": [4, 4],
            "data_offsets": [32, 64],
        },
    }
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + bytes(64)


def make_files(root: Path, n: int) -> None:
    for i in range(n):
        folder = root / FOLDERS[i % len(FOLDERS)] / f"set{i % 50:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"model_{i:05d}_style.safetensors").write_bytes(small_safetensors(i))


async def drain(events: Any) -> None:
    async for _ in events:
        pass


async def bench_scan(library: LibraryService, n: int) -> None:
    root = library.main_root()
    t0 = time.perf_counter()
    make_files(root, n)
    print(f"setup: wrote {n:,} synthetic safetensors files in {time.perf_counter() - t0:.1f} s")
    first = ScanSummary()
    t0 = time.perf_counter()
    await drain(library.scan(first))
    t_first = time.perf_counter() - t0
    print(f"first scan of {n:,} small files: {t_first:.2f} s ({n / t_first:,.0f} files/s)")

    again = ScanSummary()
    _opened.clear()
    t0 = time.perf_counter()
    await drain(library.scan(again))
    t_again = time.perf_counter() - t0
    opened = [p for p in _opened if p.startswith(str(root))]
    print(
        f"rescan of {n:,} unchanged files: {t_again:.3f} s (target <= 1 s); "
        f"model files opened: {len(opened)} (audit hook), unchanged={again.unchanged:,}"
    )


async def bench_search(library: LibraryService) -> None:
    queries = ["model", "style", "00042", "sdxl lora", "set07 model_0", "zzz-nothing", "del_09"]
    latencies = []
    for _ in range(5):
        for q in queries:
            t0 = time.perf_counter()
            rows = await library.list_models(q)
            latencies.append((time.perf_counter() - t0) * 1000)
            assert rows is not None
    t0 = time.perf_counter()
    everything = await library.list_models()
    t_all = (time.perf_counter() - t0) * 1000
    median = statistics.median(latencies)
    print(
        f"search latency over {len(everything):,} rows: median {median:.1f} ms, "
        f"max {max(latencies):.1f} ms ({len(latencies)} queries); list all: {t_all:.0f} ms"
    )


def write_big(path: Path, mb: int) -> None:
    block = os.urandom(16 * 1024 * 1024)
    with path.open("wb") as f:
        for _ in range(mb // 16):
            f.write(block)


def time_sha256sum(path: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(["sha256sum", str(path)], check=True, capture_output=True)
    return time.perf_counter() - t0


async def time_ours(path: Path) -> tuple[float, float]:
    """Seconds to hash, and the worst event-loop lag seen meanwhile (ms)."""
    worst = 0.0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal worst
        interval = 0.005
        while not done.is_set():
            t = time.perf_counter()
            await asyncio.sleep(interval)
            worst = max(worst, time.perf_counter() - t - interval)

    tick = asyncio.create_task(ticker())
    t0 = time.perf_counter()
    await hash_file(path)
    elapsed = time.perf_counter() - t0
    done.set()
    await tick
    return elapsed, worst * 1000


async def bench_hash(folder: Path, mb: int) -> None:
    path = folder / "big.bin"
    write_big(path, mb)
    size_mb = path.stat().st_size / 1024**2
    if shutil.which("sha256sum") is None:
        print("sha256sum not found: hashing compared to nothing")
    theirs, ours, lags = [], [], []
    for _ in range(3):  # alternate, page cache warm after the first read
        if shutil.which("sha256sum"):
            theirs.append(time_sha256sum(path))
        elapsed, lag = await time_ours(path)
        ours.append(elapsed)
        lags.append(lag)
    ours_mbs = size_mb / min(ours)
    line = f"sha256 of a {size_mb:,.0f} MB file: comfy-tui {ours_mbs:,.0f} MB/s"
    if theirs:
        theirs_mbs = size_mb / min(theirs)
        line += f", sha256sum {theirs_mbs:,.0f} MB/s → {ours_mbs / theirs_mbs:.0%} (target >= 90 %)"
    print(line + " (best of 3, warm cache)")
    print(f"worst event-loop lag while hashing: {max(lags):.1f} ms (target <= 50 ms)")
    path.unlink()


async def bench_tui(data_dir: Path, n: int) -> tuple[float, float]:
    """(seconds from the mode key to n rows shown, CPU ms per scrolling key)."""
    from comfy_tui.ui.factory import make_app
    from comfy_tui.ui.widgets.model_table import ModelTable

    app = make_app(Settings(data_dir=data_dir))
    async with app.run_test(size=(120, 40)) as pilot:
        t0 = time.perf_counter()
        await pilot.press("2")
        table = app.screen.query_one("#models-table", ModelTable)
        while table.row_count < n:
            await pilot.pause(0.01)
        t_load = time.perf_counter() - t0
        cpu0 = time.process_time()
        for _ in range(20):
            await pilot.press("pagedown")
        for _ in range(100):
            await pilot.press("down")
        await pilot.pause()
        cpu = (time.process_time() - cpu0) / 120 * 1000
    return t_load, cpu


async def bench_tui_both(data_dir: Path, n: int) -> None:
    with tempfile.TemporaryDirectory(prefix="comfy-tui-bench-small-") as tmp:
        small_dir = Path(tmp) / "data"
        small = LibraryService(Settings(data_dir=small_dir), DataPaths(small_dir))
        make_files(small.main_root(), 200)
        await drain(small.scan())
        small_load, small_cpu = await bench_tui(small_dir, 200)
    load, cpu = await bench_tui(data_dir, n)
    print(
        f"Models screen with {n:,} rows: shown {load:.2f} s after the key, "
        f"{cpu:.1f} ms CPU per scrolling key (with 200 rows: {small_load:.2f} s, "
        f"{small_cpu:.1f} ms)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--hash-mb", type=int, default=1024)
    parser.add_argument("--no-tui", action="store_true")
    args = parser.parse_args()
    sys.addaudithook(_audit)
    with tempfile.TemporaryDirectory(prefix="comfy-tui-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        library = LibraryService(Settings(data_dir=data_dir), DataPaths(data_dir))
        await bench_scan(library, args.files)
        await bench_search(library)
        if not args.no_tui:
            await bench_tui_both(data_dir, args.files)
        await bench_hash(Path(tmp), args.hash_mb)


if __name__ == "__main__":
    asyncio.run(main())

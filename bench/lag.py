"""Event-loop lag while comfy-tui works, and hashing speed against `hashlib.file_digest`.

Run from the repository root: ``.venv/bin/python -m bench.lag [--quick]``.
A ticker that sleeps 5 ms at a time runs in the same event loop as the work; each tick's
oversleep is one lag sample. Scenarios: the log view of an instance following a file a child
floods (`InstanceLogScreen`), the real App showing an install job whose child prints a flood of
lines, a large file hashed (`hash_file`), and a loopback download (`HttpDownload`, the server in
another process). Goal: p99 <= 50 ms each; hashing >= 0.95x `hashlib.file_digest` (same file,
warm page cache, best of 3, alternating).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType

from bench.table import Row

GOAL_MS = 50.0
HASH_GOAL = 0.95
MIB = 1024 * 1024
FLOOD = """
import sys
n, width = int(sys.argv[1]), int(sys.argv[2])
out = sys.stdout
for i in range(n):
    out.write(f"{i:08d} " + "x" * (width - 9) + "\\n")
out.flush()
"""


class LagProbe:
    """`async with LagProbe() as probe:` ticks every `interval` s; `lags` are the oversleeps."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.lags: list[float] = []
        self._running = False
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        while self._running:
            began = time.perf_counter()
            await asyncio.sleep(self.interval)
            self.lags.append(max(0.0, time.perf_counter() - began - self.interval))

    async def __aenter__(self) -> LagProbe:
        self._running = True
        self._task = asyncio.create_task(self._tick())
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._running = False
        if self._task is not None:
            await self._task

    def p99_ms(self) -> float:
        if len(self.lags) < 2:
            return 1000 * max(self.lags, default=0.0)
        return 1000 * statistics.quantiles(self.lags, n=100, method="inclusive")[98]

    def worst_ms(self) -> float:
        return 1000 * max(self.lags, default=0.0)


async def log_ingest(lines: int) -> LagProbe:
    """The log view following an instance log that a child floods with `lines` lines."""
    from bench.logtail import Bench
    from comfy_tui.store.instance_records import InstanceRecord
    from comfy_tui.ui.widgets.log_pane import LogPane

    folder = Path(tempfile.mkdtemp(prefix="comfy-tui-bench-"))
    log = folder / "c000000.log"
    log.write_text("")
    record = InstanceRecord(id="c000000", version="bench", port=1, listen="127.0.0.1", gpu=None,
                            argv=(), cwd="/", log_path=str(log), started_at=0.0)  # fmt: skip
    app = Bench(record)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.3)
            pane = app.screen.query_one(LogPane)
            async with LagProbe() as probe:
                with log.open("ab") as out:
                    child = subprocess.Popen(
                        [sys.executable, "-c", FLOOD, str(lines), "100"], stdout=out
                    )
                while pane.received < lines:
                    await asyncio.sleep(0.01)
                child.wait()
        return probe
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def install_output(lines: int) -> LagProbe:
    """The real App on the Versions screen while an install job relays a child's flood."""
    from comfy_tui.events import Event, Finished, LogLine, Progress
    from comfy_tui.runner import JobKey, JobKind
    from comfy_tui.services.proc import ChildProcess
    from comfy_tui.settings import load_settings
    from comfy_tui.ui.factory import make_app

    async def job() -> AsyncIterator[Event]:
        child = ChildProcess([sys.executable, "-c", FLOOD, str(lines), "100"])
        n = 0
        async for text in child.lines():
            n += 1
            yield LogLine(text, "uv")
            if n % 200 == 0:
                yield Progress("packages", n / lines, detail=f"{n} lines")
        yield Finished("done")

    data = Path(tempfile.mkdtemp(prefix="comfy-tui-bench-"))
    try:
        settings = load_settings(data, {"COMFY_TUI_GITHUB_API": "http://127.0.0.1:9"})
        app = make_app(settings)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.5)
            async with LagProbe() as probe:
                worker = app.start_job(JobKey(JobKind.INSTALL, "vbench"), "install vbench", job)
                await worker.wait()
                await pilot.pause(0.2)
        return probe
    finally:
        shutil.rmtree(data, ignore_errors=True)


def _write(path: Path, mib: int) -> None:
    block = os.urandom(16 * MIB)
    with path.open("wb") as f:
        for _ in range(max(1, mib // 16)):
            f.write(block)


async def hashing(mib: int) -> tuple[LagProbe, float, float]:
    """(lag while `hash_file` runs, its MiB/s, `hashlib.file_digest`'s MiB/s): best of 3."""
    from comfy_tui.services.library.hashing import hash_file

    folder = Path(tempfile.mkdtemp(prefix="comfy-tui-bench-"))
    path = folder / "big.bin"
    try:
        _write(path, mib)
        ours, theirs = [], []
        probe = LagProbe()
        for _ in range(3):
            began = time.perf_counter()
            with path.open("rb") as f:
                expected = hashlib.file_digest(f, "sha256").hexdigest()
            theirs.append(time.perf_counter() - began)
            async with probe:
                began = time.perf_counter()
                got = await hash_file(path)
                ours.append(time.perf_counter() - began)
            assert got == expected
        return probe, mib / min(ours), mib / min(theirs)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


async def download(mib: int) -> LagProbe:
    """One loopback download of `mib` MiB with the engine's default connections."""
    from bench.downloads import start_server
    from comfy_tui.events import Finished
    from comfy_tui.services.downloads import DownloadSpec, HttpDownload, Kind

    server, url = start_server(mib * MIB, None)
    folder = Path(tempfile.mkdtemp(prefix="comfy-tui-bench-"))
    try:
        spec = DownloadSpec(kind=Kind.URL, key=f"url:{url}", url=url, folder="checkpoints",
                            filename="big.gguf", allow_local=True)  # fmt: skip
        async with LagProbe() as probe:
            async for event in HttpDownload(spec, folder).run():
                if isinstance(event, Finished):
                    break
        return probe
    finally:
        server.terminate()
        server.join()
        shutil.rmtree(folder, ignore_errors=True)


def _lag_row(what: str, probe: LagProbe) -> Row:
    p99 = probe.p99_ms()
    return Row(
        f"loop lag p99, {what}",
        f"{p99:.1f} ms (worst {probe.worst_ms():.1f})",
        f"{len(probe.lags)} ticks of 5 ms",
        f"{p99:.1f} ms",
        f"<= {GOAL_MS:g} ms",
        p99 <= GOAL_MS,
    )


def rows(quick: bool = False) -> list[Row]:
    logging.getLogger().addHandler(logging.NullHandler())  # the App's retries: not on stderr
    lines = 20_000
    size = 256 if quick else 1024
    flood = 100_000  # long enough for a p99: 20k lines are in the view in ~0.1 s
    out = [
        _lag_row(f"log view ingesting {flood // 1000}k lines", asyncio.run(log_ingest(flood))),
        _lag_row(f"install output, {lines // 1000}k lines", asyncio.run(install_output(lines))),
    ]
    probe, ours, theirs = asyncio.run(hashing(size))
    out.append(_lag_row(f"hashing {size} MiB", probe))
    out.append(_lag_row(f"download {size} MiB (loopback)", asyncio.run(download(size))))
    ratio = ours / theirs
    out.append(
        Row(
            f"hashing {size} MiB (warm cache)",
            f"{ours:,.0f} MiB/s",
            f"hashlib.file_digest {theirs:,.0f} MiB/s",
            f"{ratio:.2f}x",
            f">= {HASH_GOAL:g}x",
            ratio >= HASH_GOAL,
        )
    )
    return out


def main() -> None:
    from bench.table import render

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller files")
    print(render(rows(parser.parse_args().quick)))


if __name__ == "__main__":
    main()

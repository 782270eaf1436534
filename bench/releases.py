"""Time the release list: a cold fetch, a cache hit, a 304 refresh, the mirror-tags fallback.

    python bench/releases.py [--releases 450] [--tags 300]

Everything is offline: a fake GitHub on 127.0.0.1 (tests/fakes/fake_github.py) serving
`--releases` releases 100 per page, and a bare git repo with `--tags` tags built here. Each
number is the median of 5 runs of `GitHubReleases.list()` (what the TUI does at start and on
`r`, and what `comfy-tui releases` does), including parsing, validation, version ordering and
the atomic cache write.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from comfy_tui.paths import DataPaths
from comfy_tui.services.github import GitHubReleases
from comfy_tui.settings import Settings
from tests.fakes.fake_github import FakeGitHub, release
from tests.fakes.tagged_repo import make_tagged_repo

RUNS = 5


async def median_ms(make: Callable[[], Awaitable[object]]) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        await make()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


async def no_sleep(seconds: float) -> None:
    return None


async def main(n_releases: int, n_tags: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="comfy-tui-bench-"))
    try:
        items = [release(f"v0.{i // 10}.{i % 10}") for i in range(n_releases)]
        async with FakeGitHub(releases=items) as fake:
            settings = Settings(data_dir=root / "data", github_api=fake.url)
            paths = DataPaths(settings.data_dir)
            svc = GitHubReleases(settings, paths, sleep=no_sleep)

            async def cold() -> object:
                paths.github_cache().unlink(missing_ok=True)
                return await svc.list(refresh=True)

            cold_ms = await median_ms(cold)
            pages = len(fake.requests) // RUNS
            hit_ms = await median_ms(lambda: svc.list())
            not_modified_ms = await median_ms(lambda: svc.list(refresh=True))

        repo = make_tagged_repo(
            root / "src", [(f"v0.{i}.0", "2025-01-01T00:00:00+00:00") for i in range(n_tags)]
        )
        mirror = root / "data" / "mirrors" / "ComfyUI.git"
        shutil.copytree(repo, mirror)
        offline = Settings(data_dir=root / "data", github_api="http://127.0.0.1:9")
        offline_svc = GitHubReleases(offline, paths, sleep=no_sleep)
        paths.github_cache().unlink(missing_ok=True)
        mirror_ms = await median_ms(lambda: offline_svc.list(refresh=True))
    finally:
        shutil.rmtree(root, ignore_errors=True)

    rows = [
        (f"cold fetch, {n_releases} releases in {pages} pages", cold_ms),
        ("cache hit (younger than the TTL)", hit_ms),
        ("refresh answered 304 (ETag)", not_modified_ms),
        (f"GitHub down, no cache: {n_tags} mirror tags", mirror_ms),
    ]
    print(f"release list, median of {RUNS} runs (fake GitHub on loopback)")
    for label, ms in rows:
        print(f"  {label:<42} {ms:8.1f} ms")


if __name__ == "__main__":
    logging.getLogger("comfy_tui").setLevel(logging.ERROR)  # the offline case warns on purpose
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=450)
    parser.add_argument("--tags", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(main(args.releases, args.tags))

"""Custom nodes and snapshots on two installed fake versions: print seconds per operation.

    python bench/nodes.py [--nodes 5]

Offline: the fake ComfyUI repo and wheelhouse of the tests, and `--nodes` node repositories
in a local node mirror, each requiring its own tiny package. Timed: add (git clone), plan (uv
dry run with the torch pins), enable (snapshot + uv install + link), a snapshot on demand, and a
restore to the first snapshot (checks + dry run + snapshot + node checkouts + uv sync). Each
number is the median over the nodes (or one run); "shared" is the disk of the node checkouts
compared with one copy per version, as other launchers keep.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from comfy_tui.paths import DataPaths
from comfy_tui.services.container import Services
from comfy_tui.services.nodes import NodesService
from comfy_tui.services.staging import du_bytes
from comfy_tui.services.versions import VersionsService
from comfy_tui.settings import Settings
from tests.fakes.comfyui_repo import build_comfyui_repo
from tests.fakes.node_repo import NodeCommit, NodeMirror
from tests.fakes.wheelhouse import build_wheel, build_wheelhouse

T = TypeVar("T")
TAGS = ("v0.3.77", "v0.4.0")


async def timed(run: Callable[[], Awaitable[T]]) -> tuple[float, T]:
    started = time.monotonic()
    result = await run()
    return time.monotonic() - started, result


async def drain(events: object) -> None:
    async for _ in events:  # type: ignore[attr-defined]
        pass


async def main(count: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="comfy-tui-bench-nodes-"))
    upstream = build_comfyui_repo(root / "upstream")
    wheels = build_wheelhouse(root / "wheels")
    mirror = NodeMirror(root / "mirror")
    names = [f"Node{i}" for i in range(count)]
    for name in names:
        build_wheel(wheels, f"{name.lower()}dep", "1.0")
        payload = {f"data/{j}.py": f"# {'x' * 4000}\n" for j in range(25)}  # about 100 kB
        mirror.add(name, NodeCommit(requirements=f"{name.lower()}dep\n", files=payload))
    settings = Settings(
        data_dir=root / "data",
        comfyui_repo=upstream.as_uri(),
        find_links=(wheels.as_uri(),),
        python=sys.executable,
        nodes_mirror=mirror.uri,
    )
    paths = DataPaths(settings.data_dir)
    guard = Services(settings).guard
    versions = VersionsService(settings, paths, guard=guard, detect_gpu=lambda: None)
    for tag in TAGS:
        await drain(versions.install(tag, "cpu"))
    nodes = NodesService(settings, paths, guard=guard)

    first = await nodes.snapshots.create(TAGS[0])
    add, plan, enable = [], [], []
    for name in names:
        started = time.monotonic()
        await drain(nodes.add(mirror.url(name)))
        add.append(time.monotonic() - started)
        for tag in TAGS:
            started = time.monotonic()
            made = await nodes.plan(name, tag)
            plan.append(time.monotonic() - started)
            started = time.monotonic()
            await drain(nodes.enable(made))
            enable.append(time.monotonic() - started)
    snap_s, snap = await timed(lambda: nodes.snapshots.create(TAGS[0]))
    restore_s, _ = await timed(lambda: drain(nodes.restore(TAGS[0], first.id)))
    shared = du_bytes(paths.nodes_dir())[0]
    size = paths.snapshot_file(TAGS[0], snap.id).stat().st_size

    def line(what: str, values: list[float]) -> None:
        print(f"{what:<44} {statistics.median(values):6.2f} s  (median of {len(values)})")

    print(f"{count} nodes, {len(TAGS)} versions, uv, offline (data in {root})")
    line("add a node (git clone from the mirror)", add)
    line("plan: uv dry run with the torch pins", plan)
    line("enable: snapshot + uv install + link", enable)
    print(f"{'snapshot on demand (' + str(count) + ' nodes, freeze)':<44} {snap_s:6.2f} s")
    print(f"{'restore to the first snapshot':<44} {restore_s:6.2f} s")
    print(f"{'snapshot file':<44} {size / 1000:6.1f} kB ({len(snap.packages)} packages)")
    print(
        f"{'node checkouts on disk':<44} {shared / 1e6:6.2f} MB shared, "
        f"{shared * len(TAGS) / 1e6:.2f} MB as one copy per version"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=5)
    asyncio.run(main(parser.parse_args().nodes))

"""ProcessTreeSampler on a real process tree: sums, vanished pids, VRAM attribution."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator

import psutil
import pytest

from comfy_tui.services.monitor import GpuProcess, GpuReading, ProcessTreeSampler, ReplayBackend
from tests.waiting import wait_until

SPAWNER = (
    "import subprocess, sys, time\n"
    "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
    "print(child.pid, flush=True)\n"
    "child.wait()\n"
    "time.sleep(60)\n"
)


@pytest.fixture
def tree() -> Iterator[tuple[int, int]]:
    """(root pid, grandchild pid) of a real two-level process tree, killed afterwards."""
    root = subprocess.Popen([sys.executable, "-c", SPAWNER], stdout=subprocess.PIPE, text=True)
    assert root.stdout is not None
    grandchild = int(root.stdout.readline())
    try:
        yield root.pid, grandchild
    finally:
        for pid in (grandchild, root.pid):
            with contextlib.suppress(psutil.NoSuchProcess):
                psutil.Process(pid).kill()
        root.wait(timeout=10)
        root.stdout.close()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait(timeout=10)
    return proc.pid


def test_tree_sums_rss_and_cpu_across_ticks(tree: tuple[int, int]) -> None:
    root, grandchild = tree
    sampler = ProcessTreeSampler()
    first = sampler.sample({"inst": root})["inst"]
    assert first.alive and first.root_pid == root and first.instance_id == "inst"
    assert set(first.pids) == {root, grandchild}
    assert first.rss_bytes is not None and first.rss_bytes > 0
    assert first.cpu_percent is None  # no CPU-time delta on the first sight
    assert first.vram_bytes is None  # no GPU process lists given
    time.sleep(0.05)
    second = sampler.sample({"inst": root})["inst"]
    assert second.cpu_percent is not None and second.cpu_percent >= 0.0
    assert second.rss_bytes is not None and second.rss_bytes > 0
    assert second.pids[0] == root


def test_vanished_root_and_vanished_member(tree: tuple[int, int]) -> None:
    root, grandchild = tree
    sampler = ProcessTreeSampler()
    gone = _dead_pid()
    usage = sampler.sample({"inst": root, "gone": gone})
    assert usage["gone"].alive is False
    assert usage["gone"].pids == () and usage["gone"].rss_bytes is None
    psutil.Process(grandchild).kill()
    wait_until(lambda: not psutil.pid_exists(grandchild), "the spawner to reap it")
    after = sampler.sample({"inst": root})["inst"]
    assert after.alive
    assert after.pids == (root,)
    assert after.rss_bytes is not None and after.rss_bytes > 0


def test_vram_from_gpu_process_lists(tree: tuple[int, int]) -> None:
    root, grandchild = tree
    frame = [
        GpuReading(index=0, processes=(GpuProcess(grandchild, 6 * 2**30), GpuProcess(1, 99))),
        GpuReading(index=1, processes=(GpuProcess(root, 2**30),)),
        GpuReading(index=2, processes=()),
    ]
    gpus = ReplayBackend([frame]).sample()
    usage = ProcessTreeSampler().sample({"inst": root}, gpus)["inst"]
    assert usage.vram_bytes == 7 * 2**30
    assert usage.gpu_indices == (0, 1)


def test_vram_zero_when_lists_do_not_name_the_tree(tree: tuple[int, int]) -> None:
    root, _ = tree
    gpus = [GpuReading(index=0, processes=(GpuProcess(1, 99),))]
    usage = ProcessTreeSampler().sample({"inst": root}, gpus)["inst"]
    assert usage.vram_bytes == 0 and usage.gpu_indices == ()


def test_vram_unknown_amount_is_none_but_gpu_is_named(tree: tuple[int, int]) -> None:
    root, _ = tree
    gpus = [GpuReading(index=3, processes=(GpuProcess(root, None),))]
    usage = ProcessTreeSampler().sample({"inst": root}, gpus)["inst"]
    assert usage.vram_bytes is None and usage.gpu_indices == (3,)


def test_process_objects_are_kept_only_for_live_trees(tree: tuple[int, int]) -> None:
    root, _ = tree
    sampler = ProcessTreeSampler()
    sampler.sample({"inst": root})
    sampler.sample({"inst": root})
    assert sampler.sample({"inst": root})["inst"].cpu_percent is not None
    sampler.sample({})
    assert sampler.sample({"inst": root})["inst"].cpu_percent is None  # forgotten, starts over


def test_this_process_tree_is_sampled() -> None:
    import os

    usage = ProcessTreeSampler().sample({"me": os.getpid()})["me"]
    assert usage.alive and os.getpid() in usage.pids

"""Which GPU a launch gets: the most free memory, ties by the fewest of our instances."""

from __future__ import annotations

from comfy_tui.services.instances.gpus import GpuMemory, choose_gpu

GIB = 2**30


def mem(*free_gib: float) -> list[GpuMemory]:
    return [GpuMemory(i, int(f * GIB), 141 * GIB) for i, f in enumerate(free_gib)]


def test_most_free_memory_wins_even_over_fewer_instances() -> None:
    gpu, why = choose_gpu(3, mem(20, 130, 90), {0: 0, 1: 2, 2: 0})
    assert gpu == 1
    assert (
        why == "the most free memory: 130.0 GiB of 141.0 GiB (free: GPU 0 20.0 GiB, GPU 2 90.0 GiB)"
    )


def test_a_tie_goes_to_the_fewest_instances_then_the_lowest_index() -> None:
    assert choose_gpu(3, mem(100, 100, 100), {0: 1, 1: 1})[0] == 2
    gpu, why = choose_gpu(2, mem(50, 50), {})
    assert gpu == 0 and "a tie" in why


def test_without_readings_the_fewest_instances() -> None:
    assert choose_gpu(2, [], {0: 1}) == (
        1,
        "no memory readings: the one with the fewest instances (0)",
    )
    partial = [GpuMemory(0, None, None), GpuMemory(1, 5 * GIB, 10 * GIB)]
    assert choose_gpu(2, partial, {})[0] == 0
    assert choose_gpu(0, mem(1), {}) == (None, "no GPU: CPU only")

"""History ring buffers and recording samples into them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from comfy_tui.services.monitor import (
    GpuInfo,
    GpuReading,
    History,
    InstanceUsage,
    StatsSample,
    gpu_key,
    instance_key,
    record_sample,
)
from comfy_tui.services.monitor.history import CPU_PERCENT, DEFAULT_HISTORY_POINTS, RAM_PERCENT
from comfy_tui.services.monitor.readings import MemoryUsage, SystemReading


def test_default_is_ten_minutes_at_one_hertz() -> None:
    assert History().maxlen == DEFAULT_HISTORY_POINTS == 600


@given(maxlen=st.integers(1, 50), values=st.lists(st.floats(-1e6, 1e6), max_size=200))
def test_ring_buffer_is_bounded_and_keeps_the_newest(maxlen: int, values: list[float]) -> None:
    history = History(maxlen)
    for value in values:
        history.push("m", value)
    assert history.series("m") == values[-maxlen:]
    assert len(history.series("m")) == min(maxlen, len(values))


def test_none_is_skipped_and_unknown_series_are_empty() -> None:
    history = History(3)
    history.push("m", None)
    assert "m" not in history and history.series("m") == [] and history.latest("m") is None
    history.push("m", 1)
    history.push("m", None)
    assert history.series("m") == [1.0] and history.latest("m") == 1.0


def test_series_is_a_copy() -> None:
    history = History(3)
    history.push("m", 1.0)
    history.series("m").append(5.0)
    assert history.series("m") == [1.0]


def test_names_remove_discard_clear() -> None:
    history = History(3)
    for name in ("gpu.0.util_pct", "gpu.1.util_pct", "cpu.percent"):
        history.push(name, 1.0)
    assert history.names() == list(history) == ["cpu.percent", "gpu.0.util_pct", "gpu.1.util_pct"]
    history.discard("gpu.")
    assert history.names() == ["cpu.percent"]
    history.remove("cpu.percent")
    history.remove("unknown")
    assert len(history) == 0
    history.push("x", 1)
    history.clear()
    assert len(history) == 0


def test_bad_length() -> None:
    with pytest.raises(ValueError):
        History(0)


def _sample(instances: dict[str, InstanceUsage]) -> StatsSample:
    system = SystemReading(
        cpu_percent=12.5,
        per_cpu_percent=None,
        cpu_count=2,
        load_avg=None,
        memory=MemoryUsage(100, 40, 60, 40.0),
        swap=None,
        disks=(),
        disk_io=None,
        net_io=None,
    )
    gpus = (GpuReading(index=0, utilization_gpu_pct=90, memory_used_bytes=5, power_draw_w=None),)
    return StatsSample(1.0, system, gpus, GpuInfo(available=True, device_count=1), instances)


def test_record_sample_and_instance_pruning() -> None:
    history = History(10)
    usage = InstanceUsage("a", 1, True, (1,), 5.0, 100, 0)
    record_sample(history, _sample({"a": usage, "b": InstanceUsage("b", 2, False)}))
    assert history.series(CPU_PERCENT) == [12.5]
    assert history.series(RAM_PERCENT) == [40.0]
    assert history.series(gpu_key(0, "util_pct")) == [90.0]
    assert history.series(gpu_key(0, "memory_used_bytes")) == [5.0]
    assert gpu_key(0, "power_w") not in history
    assert history.series(instance_key("a", "rss_bytes")) == [100.0]
    assert instance_key("b", "rss_bytes") not in history  # None readings
    record_sample(history, _sample({}), prune_instances=False)  # summary tick keeps them
    assert instance_key("a", "rss_bytes") in history
    record_sample(history, _sample({}))
    assert not [n for n in history.names() if n.startswith("instance.")]

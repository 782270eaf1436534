"""A host's row from its `stats --json` / `ps --json` (pure), and the connection's backoff."""

from __future__ import annotations

from typing import Any

import pytest

from comfy_tui.core.fleet_hosts import HostSpec
from comfy_tui.errors import ValidationError
from comfy_tui.services.fleet.service import Fleet, launch_args
from comfy_tui.services.fleet.state import from_remote, short_gpu_name
from comfy_tui.services.fleet.transport import HostDown, HostLink
from comfy_tui.services.instances.launch import LaunchRequest

SPEC = HostSpec("a", "10.0.0.1", "me", tags=("gpu=h100",))
GIB = 1024**3


def test_a_host_row_from_its_documents() -> None:
    stats = {
        "gpus": [
            {"index": i, "name": "NVIDIA H100 80GB HBM3", "utilization_gpu_pct": 20 * (i + 1),
             "memory_used_bytes": 10 * GIB, "memory_total_bytes": 80 * GIB}
            for i in range(2)
        ],
        "gpu_info": {"available": True},
        "system": {"disks": [{"free_bytes": 500 * GIB}, {"free_bytes": 1}]},
    }  # fmt: skip
    ps = [
        {"id": "c4", "version": "v0.3.77", "state": "running", "port": 8188, "gpu": 0,
         "job": {"summary": "KSampler 3/20"}},
        {"id": "d5", "version": "v0.3.76", "state": "exited", "port": 8189, "gpu": None},
    ]  # fmt: skip
    state = from_remote(SPEC, "comfy-tui 0.1.0\n", stats, ps)
    assert state.reachable and state.version == "0.1.0" and state.disk_free_bytes == 500 * GIB
    assert state.gpus_text() == "2× H100 30% 20.0/160.0 GiB"
    assert state.instances_text() == "v0.3.77 :8188 KSampler 3/20"
    assert state.to_json()["instances"][1]["state"] == "exited"


def test_an_older_or_odd_remote_leaves_fields_empty() -> None:
    state = from_remote(SPEC, "", {"gpu_info": {"available": False, "reason": "no NVML"}}, "x")
    assert state.reachable and state.version is None and state.gpus == ()
    assert state.gpus_text() == "no NVML" and state.instances_text() == "none"
    assert state.disk_free_bytes is None


@pytest.mark.parametrize(
    ("name", "short"),
    [("NVIDIA H100 80GB HBM3", "H100"), ("NVIDIA RTX A6000", "RTX A6000"), ("NVIDIA H200", "H200")],
)
def test_short_gpu_names(name: str, short: str) -> None:
    assert short_gpu_name(name) == short


def test_launch_arguments_are_one_word_each() -> None:
    request = LaunchRequest("v0.3.77", 8200, 1, "127.0.0.1", ("--lowvram",), {"A": "b c"}, True)
    assert launch_args(request) == [
        "launch", "v0.3.77", "--port", "8200", "--gpu", "1", "--listen", "127.0.0.1",
        "--env", "A=b c", "--auto-restart", "--", "--lowvram",
    ]  # fmt: skip


def test_selecting_hosts_by_name_and_tag() -> None:
    fleet = Fleet([SPEC, HostSpec("b", "h2")])
    assert [h.name for h in fleet.select(tags=["gpu=h100"])] == ["a"]
    assert [h.name for h in fleet.select()] == ["a", "b"]
    with pytest.raises(ValidationError, match="no host named 'z'"):
        fleet.select(names=["z"])
    with pytest.raises(ValidationError, match="no host is tagged x"):
        fleet.select(tags=["x"])


async def test_a_down_host_is_not_asked_again_until_its_backoff_ends() -> None:
    now = [100.0]
    calls: list[str] = []

    async def refuse(host: str, **options: Any) -> Any:
        calls.append(host)
        raise ConnectionRefusedError(111, "Connection refused")

    link = HostLink(SPEC, known_hosts=[], connect=refuse, clock=lambda: now[0])
    with pytest.raises(HostDown, match=r"cannot connect to me@10\.0\.0\.1"):
        await link.run(["ps"])
    with pytest.raises(HostDown, match="next try in 1s"):
        await link.run(["ps"])  # within the backoff: fails at once, no connection attempt
    assert calls == ["10.0.0.1"]
    now[0] += 1.5
    with pytest.raises(HostDown):
        await link.run(["ps"])
    assert len(calls) == 2
    with pytest.raises(HostDown, match="next try in 2s"):
        await link.run(["ps"])  # the second failure waits longer

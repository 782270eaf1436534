"""How much time comfy-tui adds to a launch, and how long a stop takes.

Against the fake ComfyUI (tests/fakes/comfyui): first the fake's own time from spawn to the
first 200 on /system_stats (started by hand, polled every 5 ms), then `comfy-tui launch`
(a real CLI process: parse, plan, spawn the supervisor, wait until ready, print, exit), the
same launch in-process through InstancesService, and `comfy-tui stop` / service stop.
A real ComfyUI takes ~8 s to answer on a 2-core box; the overhead is what matters.

    python bench/launch.py [--runs 5] [--delay 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from comfy_tui.paths import DataPaths  # noqa: E402
from comfy_tui.services.container import Services, build_instances  # noqa: E402
from comfy_tui.services.instances.launch import LaunchRequest  # noqa: E402
from comfy_tui.settings import Settings  # noqa: E402
from tests.fakes.installed_version import install_fake_version  # noqa: E402
from tests.fakes.instance_lab import free_port  # noqa: E402


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/system_stats", timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


def fake_alone(main_py: Path, env: dict[str, str]) -> float:
    port = free_port()
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(main_py), "--listen", "127.0.0.1", "--port", str(port), "--cpu"],
        stderr=subprocess.DEVNULL,
        env=env,
    )
    while not answers(port):
        time.sleep(0.005)
    took = time.perf_counter() - began
    proc.send_signal(signal.SIGINT)
    proc.wait()
    return took


def cli(root: Path, env: dict[str, str], *args: str) -> tuple[float, str]:
    began = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "comfy_tui", "--data-dir", str(root), *args],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return time.perf_counter() - began, out.stdout


async def in_process(root: Path, delay: str) -> tuple[float, float]:
    services = Services(Settings(data_dir=root, base_port=free_port()))
    svc = build_instances(services, gpu_count=lambda: 0)
    began = time.perf_counter()
    instance_id = ""
    request = LaunchRequest(env={"FAKE_COMFYUI_STARTUP_DELAY": delay})
    async for event in svc.launch(request):
        instance_id = getattr(event, "source", instance_id) or instance_id
    launched = time.perf_counter() - began
    began = time.perf_counter()
    await svc.stop(instance_id)
    return launched, time.perf_counter() - began


def med(values: list[float]) -> str:
    mid, low, high = (1000 * f(values) for f in (statistics.median, min, max))
    return f"median {mid:7.1f} ms  (min {low:.1f}, max {high:.1f})"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--delay", default="0", help="FAKE_COMFYUI_STARTUP_DELAY seconds")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-launch-"))
    version = install_fake_version(DataPaths(root))
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMFY_TUI_")}
    env["FAKE_COMFYUI_STARTUP_DELAY"] = args.delay

    alone, cli_launch, cli_stop, svc_launch, svc_stop = [], [], [], [], []
    for _ in range(args.runs):
        alone.append(fake_alone(Path(version.path) / "main.py", env))
        env["COMFY_TUI_BASE_PORT"] = str(free_port())
        took, out = cli(root, env, "launch", "--json")
        cli_launch.append(took)
        took, _ = cli(root, env, "stop", json.loads(out)["id"])
        cli_stop.append(took)
        launched, stopped = asyncio.run(in_process(root, args.delay))
        svc_launch.append(launched)
        svc_stop.append(stopped)

    overhead_cli = statistics.median(cli_launch) - statistics.median(alone)
    overhead_svc = statistics.median(svc_launch) - statistics.median(alone)
    print(f"runs: {args.runs}, fake startup delay {args.delay} s, python {sys.version.split()[0]}")
    print(f"fake ComfyUI alone, spawn -> /system_stats 200 : {med(alone)}")
    print(f"comfy-tui launch (CLI process, until ready)    : {med(cli_launch)}")
    print(f"InstancesService.launch (in process)           : {med(svc_launch)}")
    print(f"overhead: CLI {overhead_cli * 1000:+.1f} ms, service {overhead_svc * 1000:+.1f} ms")
    print(f"comfy-tui stop (CLI process)                   : {med(cli_stop)}")
    print(f"InstancesService.stop (SIGINT -> all gone)     : {med(svc_stop)}")


if __name__ == "__main__":
    main()

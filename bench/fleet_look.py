"""How long a fleet status look takes over SSH, against the same work done without SSH.

In-process asyncssh servers on 127.0.0.1 (tests/fakes/ssh_hosts.py) run the real `comfy-tui`
for their own data dirs. The anchor is what the hosts do for one look, run here without SSH:
per host `comfy-tui --version`, `stats --json` (samples 0.2 s apart, as the fleet asks) and
`ps --json`, all at once. Then `Fleet.statuses()`: the first look (it opens the connections)
and later looks (connections kept), for one host and for three (which here share this
machine's CPUs; real hosts do not). The ratio look / anchor is what SSH and the fleet add;
the goal is at most 1.5x. (The issue's "within a second of opening" is then the host's own
three calls plus SSH: about 0.5 s on an idle 2-core box; this script prints the load.)

    python bench/fleet_look.py [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from comfy_tui.services.fleet.service import QUICK_STATS, Fleet  # noqa: E402
from comfy_tui.settings import load_settings  # noqa: E402
from tests.fakes.ssh_hosts import SshLab  # noqa: E402


async def anchor(env: dict[str, str], hosts: int) -> float:
    began = time.perf_counter()
    calls = (["--version"], ["stats", "--json"], ["ps", "--json"]) * hosts
    children = [
        await asyncio.create_subprocess_exec(
            "comfy-tui",
            *args,
            env={**env, **QUICK_STATS},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        for args in calls
    ]
    await asyncio.gather(*(c.wait() for c in children))
    return time.perf_counter() - began


async def looks(client: Path, names: list[str], runs: int) -> tuple[float, float]:
    """(first look, median of the later looks) for the hosts `names`."""
    fleet = Fleet(load_settings(client, {}).hosts)
    chosen = fleet.select(names=names)
    try:
        began = time.perf_counter()
        states = await fleet.statuses(chosen)
        first = time.perf_counter() - began
        assert all(s.reachable for s in states), [s.error for s in states]
        later = []
        for _ in range(runs):
            began = time.perf_counter()
            await fleet.statuses(chosen)
            later.append(time.perf_counter() - began)
    finally:
        await fleet.aclose()
    return first, statistics.median(later)


def line(what: str, seconds: float, base: float, goal: str, met: bool) -> str:
    verdict = "met" if met else "NOT met"
    return f"{what:<34} {seconds * 1000:6.0f} ms  {seconds / base:5.2f}x  {goal}: {verdict}"


async def main(runs: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="comfy-tui-bench-fleet-"))
    home = root / "home"
    home.mkdir()
    os.environ["HOME"] = str(home)
    lab = SshLab(root / "lab", home)
    try:
        for name in ("a", "b", "c"):
            await lab.add(name)
        lab.known_hosts()
        client = root / "client"
        client.mkdir()
        (client / "settings.toml").write_text(lab.hosts_toml())
        env = {**os.environ, **lab.hosts["a"].child_env()}
        rows = []
        for names in (["a"], ["a", "b", "c"]):
            base = statistics.median([await anchor(env, len(names)) for _ in range(runs)])
            first, warm = await looks(client, names, runs)
            rows.append((len(names), base, first, warm))
    finally:
        await lab.aclose()
    print(f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}, {runs} runs")
    for count, base, first, warm in rows:
        print(f"{count} host(s): anchor (same work, no SSH)  {base * 1000:6.0f} ms")
        print(line("  first look (connects)", first, base, "<= 1.5x", first <= 1.5 * base))
        print(line("  later looks (median)", warm, base, "<= 1.5x", warm <= 1.5 * base))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(main(parser.parse_args().runs))

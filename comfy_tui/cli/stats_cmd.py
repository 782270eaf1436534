"""`comfy-tui stats [--json] [--watch [--count N]]`: CPU, RAM, disk and GPU readings.

One run takes two ticks one `poll_interval` apart (CPU % and throughputs are deltas, so
the first tick only sets the baseline) and prints the second: a compact table, or with
``--json`` one document of raw numbers with units in the key names. ``--watch`` keeps
sampling until Ctrl-C (exit 0): one summary line per tick, or one JSON document per line
with ``--json``; ``--count N`` stops after N samples.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Mapping

from comfy_tui.cli.context import Context
from comfy_tui.cli.output import out, out_json, out_json_line, stdout_closed
from comfy_tui.errors import ValidationError
from comfy_tui.services.monitor import (
    NA,
    Monitor,
    StatsSample,
    fmt_bytes,
    fmt_or_na,
    fmt_pct,
    fmt_rate,
    sample_to_json,
    summarize,
    summary_line,
)
from comfy_tui.services.monitor.fmt import fmt_bytes_pair
from comfy_tui.services.monitor.text import (
    gpu_status,
    instance_line,
    load_text,
    pid_names,
    process_line,
)


def run_stats(ctx: Context, args: argparse.Namespace) -> int:
    count = getattr(args, "count", None)
    if count is not None and count < 1:
        raise ValidationError(f"--count must be at least 1, got {count}")
    services = ctx.services
    labels = dict(services.instance_labels())
    try:
        return asyncio.run(_stats(services.monitor, ctx.json, args.watch, count, labels))
    except KeyboardInterrupt:
        if args.watch:
            return 0  # Ctrl-C is how a watch ends
        raise


async def _stats(
    monitor: Monitor, as_json: bool, watch: bool, count: int | None, labels: Mapping[str, str]
) -> int:
    async with monitor:
        if not watch:
            await monitor.sample_once()  # the baseline for CPU % and rates
            await asyncio.sleep(monitor.interval)
            sample = await monitor.sample_once()
            if as_json:
                out_json(sample_to_json(sample))
            else:
                out("\n".join(sample_table(sample, labels)))
            return 0
        printed = 0
        first = True
        async for sample in monitor.samples():
            if first:
                first = False
                continue
            if as_json:
                out_json_line(sample_to_json(sample))
            else:
                out(watch_line(sample))
            printed += 1
            if (count is not None and printed >= count) or stdout_closed():
                break
    return 0


def watch_line(sample: StatsSample) -> str:
    """``12:00:01  GPU 12% · VRAM 6.2/140 GiB · CPU 3% · RAM 21%`` (local time)."""
    stamp = time.strftime("%H:%M:%S", time.localtime(sample.timestamp))
    return f"{stamp}  {summary_line(summarize(sample))}"


def sample_table(sample: StatsSample, labels: Mapping[str, str]) -> list[str]:
    """The human form of one sample: summary, one row per GPU, then the host."""
    lines = [summary_line(summarize(sample)), ""]
    has_gpus = sample.gpu_info.available and bool(sample.gpus)
    if has_gpus:
        lines.append(gpu_status(sample.gpu_info, len(sample.gpus)))
        lines.append(
            f"{'GPU':<4}{'NAME':<22}{'UTIL':>5}  {'VRAM':<16}{'TEMP':>5}  {'POWER':<11}"
            f"{'SM/MEM MHz':<12}{'FAN':>4}"
        )
        names = pid_names(sample, labels)
        for gpu in sample.gpus:
            draw, limit = gpu.power_draw_w, gpu.power_limit_w
            power = f"{fmt_or_na(draw, '{:.0f}')}/{fmt_or_na(limit, '{:.0f}')} W"
            clocks = f"{fmt_or_na(gpu.clock_sm_mhz)}/{fmt_or_na(gpu.clock_mem_mhz)}"
            name = (gpu.name or NA)[:21]
            lines.append(
                f"{gpu.index:<4}{name:<22}{fmt_pct(gpu.utilization_gpu_pct):>5}  "
                f"{fmt_bytes_pair(gpu.memory_used_bytes, gpu.memory_total_bytes):<16}"
                f"{fmt_or_na(gpu.temperature_c, '{}°C'):>5}  {power:<11}{clocks:<12}"
                f"{fmt_or_na(gpu.fan_speed_pct, '{}%'):>4}"
            )
            lines.extend(f"    {process_line(p, names)}" for p in gpu.processes or ())
    else:
        lines.append(f"GPU   {gpu_status(sample.gpu_info, 0)}")
    lines.append("")
    system = sample.system
    cpu = fmt_pct(system.cpu_percent, digits=1)
    lines.append(f"CPU   {cpu} · {load_text(system.load_avg, system.cpu_count)}")
    mem, swap = system.memory, system.swap
    swap_text = (
        "none"
        if swap is None or swap.total_bytes == 0
        else f"{fmt_bytes_pair(swap.used_bytes, swap.total_bytes)} ({fmt_pct(swap.percent)})"
    )
    lines.append(
        f"RAM   {fmt_bytes_pair(mem.used_bytes, mem.total_bytes)}"
        f" ({fmt_pct(mem.percent, digits=1)})"
        f" · available {fmt_bytes(mem.available_bytes)} · swap {swap_text}"
    )
    for disk in system.disks:
        lines.append(
            f"DISK  {disk.mountpoint}  {fmt_bytes_pair(disk.used_bytes, disk.total_bytes)}"
            f" ({fmt_pct(disk.percent, digits=1)}) · free {fmt_bytes(disk.free_bytes)}"
        )
    disk_io, net_io = system.disk_io, system.net_io
    lines.append(
        "I/O   disk read "
        f"{fmt_rate(None if disk_io is None else disk_io.read_bytes_per_s)}"
        f", write {fmt_rate(None if disk_io is None else disk_io.write_bytes_per_s)}"
        f" · net in {fmt_rate(None if net_io is None else net_io.recv_bytes_per_s)}"
        f", out {fmt_rate(None if net_io is None else net_io.sent_bytes_per_s)}"
    )
    if sample.instances:
        lines.append("")
        lines.extend(
            instance_line(iid, usage, labels) for iid, usage in sorted(sample.instances.items())
        )
    return lines

"""What the Instances table and its detail panel show for each instance (pure formatting)."""

from __future__ import annotations

from rich.text import Text

from comfy_tui.core.units import format_bytes, format_duration
from comfy_tui.services.childenv import mask_env
from comfy_tui.services.instances.views import InstanceView, format_percent

COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "ID"),
    ("version", "Version"),
    ("port", "Port"),
    ("gpu", "GPU"),
    ("state", "State"),
    ("uptime", "Uptime"),
    ("queue", "Queue"),
    ("cpu", "CPU %"),
    ("ram", "RAM"),
)

STATE_STYLE = {
    "starting": "yellow",
    "running": "green",
    "unhealthy": "bold dark_orange",
    "stopping": "yellow",
    "exited": "dim",
    "crashed": "bold red",
}
FINISHED_SHOWN = 10


def order(views: list[InstanceView]) -> list[InstanceView]:
    """Live instances in launch order, then the most recently finished ones."""
    live = [v for v in views if v.record.live]
    done = [v for v in views if not v.record.live]
    done.sort(key=lambda v: v.record.ended_at or v.record.started_at, reverse=True)
    return live + done[:FINISHED_SHOWN]


def state_text(view: InstanceView) -> Text:
    return Text(view.state, style=STATE_STYLE.get(view.state, ""))


def row_cells(view: InstanceView) -> list[str | Text]:
    r = view.record
    return [
        r.id,
        r.version,
        str(r.port),
        view.gpu_text(),
        state_text(view),
        format_duration(view.uptime_s, unknown="-"),
        "-" if view.queue is None else str(view.queue),
        format_percent(view.cpu_percent),
        format_bytes(view.rss_bytes, unknown="-"),
    ]


def detail_text(view: InstanceView) -> Text:
    """The panel under the table: where to reach it, how to tunnel, why it ended."""
    r = view.record
    text = Text()
    head = f"{r.id} · ComfyUI {r.version} · "
    text.append(head)
    text.append(r.state, style=STATE_STYLE.get(r.state, ""))
    facts = [f"pid {r.pid}" if r.live and r.pid else "", f"restarts {r.restarts}"]
    if r.auto_restart:
        facts.append("auto-restart on")
    if r.reboots:
        facts.append(f"Manager restarts {r.reboots}")
    text.append("".join(f" · {f}" for f in facts if f))
    text.append(f"\nURL     {view.url}")
    text.append(f"\nTunnel  {view.tunnel}", style="")
    text.append(f"   (then open http://localhost:{r.port})", style="dim")
    if r.user_env:
        shown = " ".join(f"{k}={v}" for k, v in sorted(mask_env(r.user_env).items()))
        text.append(f"\nEnv     {shown}", style="dim")
    if view.exposed:
        text.append(
            "\n⚠ Listening on all interfaces: anyone who can reach this machine can use it",
            style="bold dark_orange",
        )
    if r.reason and r.reason != "stopped" and (not r.live or r.restarts):
        text.append(f"\nWhy     {r.reason}", style="red" if r.state == "crashed" else "")
    return text

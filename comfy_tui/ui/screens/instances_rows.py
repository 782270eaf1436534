"""What the Instances table and its detail panel show for each instance (pure formatting)."""

from __future__ import annotations

from rich.text import Text

from comfy_tui.core.units import format_bytes, format_duration
from comfy_tui.services.childenv import mask_env
from comfy_tui.services.instances.views import InstanceView, format_percent
from comfy_tui.services.jobs.state import JobState

COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "ID"),
    ("version", "Version"),
    ("port", "Port"),
    ("gpu", "GPU"),
    ("state", "State"),
    ("uptime", "Uptime"),
    ("job", "Job"),
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
BAR_CELLS = 8


def job_cell(view: InstanceView, job: JobState | None) -> str | Text:
    """`━━━━╸─── KSampler 14/30 · 2 queued` while a prompt runs; the queue or the last
    prompt's duration otherwise; `-` when nothing is known."""
    if job is None or not job.connected or not view.record.live:
        if view.queue is None or not view.record.live:
            return "-"
        return f"{view.queue} in queue" if view.queue else "idle"
    text = Text()
    fraction = job.fraction
    if fraction is not None:
        halves = round(fraction * BAR_CELLS * 2)
        full, half = divmod(min(halves, BAR_CELLS * 2), 2)
        text.append("━" * full + ("╸" if half else ""), style="green")
        text.append("━" * (BAR_CELLS - full - half) + " ", style="grey23")
    failed = job.last is not None and not job.last.ok and not job.prompt_id
    text.append(job.summary(), style="red" if failed else "")
    return text


def order(views: list[InstanceView]) -> list[InstanceView]:
    """Live instances in launch order, then the most recently finished ones."""
    live = [v for v in views if v.record.live]
    done = [v for v in views if not v.record.live]
    done.sort(key=lambda v: v.record.ended_at or v.record.started_at, reverse=True)
    return live + done[:FINISHED_SHOWN]


def state_text(view: InstanceView) -> Text:
    return Text(view.state, style=STATE_STYLE.get(view.state, ""))


def row_cells(view: InstanceView, job: JobState | None = None) -> list[str | Text]:
    r = view.record
    return [
        r.id,
        r.version,
        str(r.port),
        view.gpu_text(),
        state_text(view),
        format_duration(view.uptime_s, unknown="-"),
        job_cell(view, job),
        format_percent(view.cpu_percent),
        format_bytes(view.rss_bytes, unknown="-"),
    ]


def detail_text(view: InstanceView, job: JobState | None = None) -> Text:
    """The panel under the table: where to reach it, how to tunnel, why it ended, its job."""
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
    if job is not None and job.connected and r.live:
        text.append(f"\nJob     {job_line(job)}")
    if r.reason and r.reason != "stopped" and (not r.live or r.restarts):
        text.append(f"\nWhy     {r.reason}", style="red" if r.state == "crashed" else "")
    return text


def job_line(job: JobState) -> str:
    """The detail panel's job line: the running node (with its title) and the last prompt."""
    parts = []
    if job.prompt_id:
        node = job.node_class or "starting"
        if job.node_title and job.node_title != job.node_class:
            node += f" “{job.node_title}”"
        if job.value is not None and job.max:
            node += f" {job.value}/{job.max}"
        parts.append(f"{node} · prompt {job.prompt_id[:8]}")
    if job.queued:
        parts.append(f"{job.queued} queued")
    last = job.last
    if last is not None:
        took = format_duration(last.duration_s, unknown="-")
        parts.append(
            f"last {took}" if last.ok else f"last failed at {last.error_node}: {last.error}"
        )
    if not job.connected:
        parts.append("not connected")
    return " · ".join(parts) or "idle"

"""`comfy-tui launch | ps | stop | restart | logs`: instances from the command line.

The same InstancesService as the TUI. Instances are detached: `launch` returns (when ready,
or at once with --no-wait) and ComfyUI keeps running after this process exits.
"""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from comfy_tui.aio import run, sleep, to_thread
from comfy_tui.cli.context import Context
from comfy_tui.cli.output import drive_job, err, out, out_json, out_json_line, stdout_closed
from comfy_tui.core.units import format_duration
from comfy_tui.errors import ValidationError
from comfy_tui.store.instance_records import InstanceRecord, require_instance
from comfy_tui.validate import validate_env_assignment

if TYPE_CHECKING:  # what only launch, stop, restart or logs use is imported there (not by `ps`)
    from comfy_tui.services.instances.service import InstancesService
    from comfy_tui.services.instances.stop import StopReport
    from comfy_tui.services.instances.views import InstanceView
    from comfy_tui.services.instances.watch import Reconciled
    from comfy_tui.services.jobs.state import JobState

RECENT_S = 3600.0
EXPOSED_WARNING = (
    "WARNING: listening on all interfaces: anyone who can reach this machine can use ComfyUI"
)


def _service(ctx: Context) -> InstancesService:
    return ctx.services.instances


def _print_started(
    ctx: Context, view: InstanceView, ready: bool, show_gpu_reason: bool = False
) -> None:
    if ctx.json:
        out_json(view.to_json())
        return
    r = view.record
    what = "ready" if ready else "starting"
    out(f"{r.id} {what}: ComfyUI {r.version} on port {r.port} (GPU {view.gpu_text()})")
    out(f"  url:     {view.url}")
    out(f"  tunnel:  {view.tunnel}   (then open http://localhost:{r.port} on your laptop)")
    out(f"  log:     comfy-tui logs {r.id} -f")
    if show_gpu_reason and r.gpu_reason:
        out(f"  gpu:     GPU {r.gpu}: {r.gpu_reason}")
    if view.exposed:
        out(f"  {EXPOSED_WARNING}")


# --- launch / restart ------------------------------------------------------------------------
async def _launch(ctx: Context, args: argparse.Namespace) -> int:
    from comfy_tui.runner import JobKey, JobKind
    from comfy_tui.services.instances.launch import LaunchRequest
    from comfy_tui.services.instances.output_folder import output_dir_args

    svc = _service(ctx)
    env = dict(validate_env_assignment(item) for item in getattr(args, "env", None) or ())
    request = LaunchRequest(
        version=args.tag,
        port=args.port,
        gpu=gpu_arg(args.gpu),
        listen=args.listen,
        extra_args=(
            *output_dir_args(getattr(args, "output_dir", None)),
            *getattr(args, "extra", ()),
        ),
        env=env,
        auto_restart=bool(getattr(args, "auto_restart", False)),
    )
    record = await svc.start(request)
    if not args.no_wait:
        events = svc.wait_ready(record.id)
        await drive_job(JobKey(JobKind.LAUNCH, record.id), "launch", events, progress=not ctx.json)
        record = await to_thread(_reload, svc, record.id)
    _print_started(ctx, svc.view(record), not args.no_wait, show_gpu_reason=args.gpu == "auto")
    return 0


def gpu_arg(value: str | None) -> int | None:
    """`--gpu N` or `--gpu auto` (the same as leaving it out: the most free memory)."""
    if value is None or value == "auto":
        return None
    try:
        return int(value)
    except ValueError:
        raise ValidationError(
            f"invalid GPU {value!r}: give its index (0, 1, ...) or auto"
        ) from None


def _reload(svc: InstancesService, instance_id: str) -> InstanceRecord:
    return require_instance(svc.paths, instance_id)


def run_launch(ctx: Context, args: argparse.Namespace) -> int:
    return run(_launch(ctx, args))


async def _restart(ctx: Context, args: argparse.Namespace) -> int:
    from comfy_tui.runner import JobKey, JobKind

    svc = _service(ctx)
    (target,) = await _one(svc, args.id)
    events = svc.restart(target.id)
    await drive_job(JobKey(JobKind.RESTART, target.id), "restart", events, progress=not ctx.json)
    record = await to_thread(_reload, svc, target.id)
    _print_started(ctx, svc.view(record), ready=True)
    return 0


def run_restart(ctx: Context, args: argparse.Namespace) -> int:
    return run(_restart(ctx, args))


async def _one(svc: InstancesService, target: str) -> list[InstanceRecord]:
    found = await svc.resolve(target)
    if len(found) > 1:
        ids = ", ".join(r.id for r in found)
        raise ValidationError(f"'{target}' names several instances ({ids}); give one id")
    return found


# --- ps ---------------------------------------------------------------------------------------
def _row(view: InstanceView, job: JobState | None = None) -> list[str]:
    r = view.record
    queue = "-" if view.queue is None else str(view.queue)
    if job is not None:
        queue = job.summary()
    return [
        r.id,
        r.version,
        r.state,
        str(r.port),
        view.gpu_text(),
        format_duration(view.uptime_s, unknown="-"),
        queue,
        view.url,
    ]


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]


Jobs = dict[str, "JobState"]
"""Instance id -> what it is working on."""


async def _job_states(views: list[InstanceView]) -> Jobs:
    """What each running instance is working on; nothing running asks nothing (and `ps`
    then never imports the HTTP client)."""
    if not any(v.record.state == "running" for v in views):
        return {}
    from comfy_tui.services.jobs.client import snapshots

    return await snapshots([v.record for v in views])


async def _ps(svc: InstancesService, reconciled: Reconciled) -> tuple[list[InstanceView], Jobs]:
    views = await svc.refresh(reconciled)
    return views, await _job_states(views)


def _show_ps(ctx: Context, views: list[InstanceView], jobs: Jobs) -> int:
    if ctx.json:
        docs = [v.to_json() for v in views]
        for doc, v in zip(docs, views, strict=True):
            doc["job"] = jobs[v.id].to_json() if v.id in jobs else None
        out_json(docs)
        return 0
    live = [v for v in views if v.record.live]
    now = time.time()
    ended = [v for v in views if not v.record.live and now - (v.record.ended_at or 0) < RECENT_S]
    if not live:
        out("no instances running (start one with: comfy-tui launch [TAG])")
    else:
        header = ["ID", "VERSION", "STATE", "PORT", "GPU", "UPTIME", "JOB", "URL"]
        for line in _table([header, *(_row(v, jobs.get(v.id)) for v in live)]):
            out(line)
        for v in live:
            if v.exposed:
                out(f"{v.id}: {EXPOSED_WARNING}")
    if ended:
        out("")
        out("ended in the last hour:")
        for v in ended:
            r = v.record
            out(f"  {r.id}  {r.version}  {r.state}  {r.reason or '-'}")
    return 0


def run_ps(ctx: Context, args: argparse.Namespace) -> int:
    """With nothing alive there is nothing to probe or ask: no event loop, no HTTP client."""
    svc = _service(ctx)
    reconciled = svc.reconcile()
    views = svc.quiet_views(reconciled)
    if views is None or any(v.record.state == "running" for v in views):
        views, jobs = run(_ps(svc, reconciled))
        return _show_ps(ctx, views, jobs)
    return _show_ps(ctx, views, {})


# --- stop -------------------------------------------------------------------------------------
async def _stop_one(
    svc: InstancesService, record: InstanceRecord, keep_wanted: bool = False
) -> tuple[StopReport, float]:
    began = time.monotonic()
    report = await svc.stop_report(record.id, keep_wanted=keep_wanted)
    return report, time.monotonic() - began


async def _stop(ctx: Context, args: argparse.Namespace) -> int:
    svc = _service(ctx)
    views = await svc.refresh()
    if args.all:
        targets = [v.record for v in views if v.record.live]
    else:  # a named one is stopped even when it exited: what it left behind is killed
        targets = [r for r in await svc.resolve(args.target) if r.live or r.pgid]
    if args.all and not targets and not ctx.json:
        out("no instances running")
    keep = bool(getattr(args, "keep_wanted", False))
    import asyncio

    results = await asyncio.gather(*(_stop_one(svc, r, keep) for r in targets))
    if ctx.json:
        out_json(
            [
                {
                    "id": rep.record.id,
                    "state": rep.record.state,
                    "exit_code": rep.record.exit_code,
                    "reason": rep.record.reason,
                    "seconds": round(s, 2),
                    "was_running": was.live,
                    "killed": list(rep.killed),
                }
                for was, (rep, s) in zip(targets, results, strict=True)
            ]
        )
        return 0
    for was, (rep, seconds) in zip(targets, results, strict=True):
        r = rep.record
        left = f"; killed what was left: {', '.join(rep.killed)}" if rep.killed else ""
        if not was.live:
            out(f"{r.id} is not running ({r.state}){left}")
            continue
        how = r.reason if r.reason and r.reason != "stopped" else "stopped"
        took = format_duration(seconds, precision=1)
        out(f"{r.id} ({r.version}, port {r.port}): {how} in {took}{left}")
    return 0


def run_stop(ctx: Context, args: argparse.Namespace) -> int:
    return run(_stop(ctx, args))


# --- logs -------------------------------------------------------------------------------------
async def _logs(ctx: Context, args: argparse.Namespace) -> int:
    from comfy_tui.services.logtail import LogTail, last_lines

    if args.lines < 0:
        raise ValidationError(f"invalid line count {args.lines}: use 0 or more")
    svc = _service(ctx)
    (record,) = await _one(svc, args.id)
    path = svc.paths.instance_log(record.id)
    lines, offset = await to_thread(last_lines, path, args.lines)
    if ctx.json and not args.follow:
        out_json({"id": record.id, "log": str(path), "lines": lines})
        return 0

    def show(line: str) -> None:  # --json --follow: one JSON object per line
        if ctx.json:
            out_json_line({"id": record.id, "line": line})
        else:
            out(line)

    for line in lines:
        show(line)
    if not args.follow:
        return 0
    tail = LogTail(path, start=offset)
    try:
        while not stdout_closed():
            for line in await tail.poll():
                show(line)
            current = await to_thread(_reload, svc, record.id)
            if not current.live:
                for line in await tail.poll():
                    show(line)
                err(f"{record.id} {current.state}: {current.reason or 'ended'}")
                return 0
            await sleep(0.2)
        return 0
    finally:
        tail.close()


def run_logs(ctx: Context, args: argparse.Namespace) -> int:
    return run(_logs(ctx, args))

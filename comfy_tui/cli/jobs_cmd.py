"""`comfy-tui jobs | run | outputs | free`: work on running instances from the shell.

`jobs ID --follow` prints one line per event (with `--json`, one JSON object per line);
`run` queues an API-format workflow and, with `--wait`, follows it to the end and prints
where its outputs were written.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path

from comfy_tui.cli.context import Context
from comfy_tui.cli.output import err, out, out_json, out_json_line, stdout_closed
from comfy_tui.core.units import format_duration
from comfy_tui.errors import ProcessError, ValidationError
from comfy_tui.services.instances.health import base_url
from comfy_tui.services.instances.service import InstancesService
from comfy_tui.services.jobs.api import (
    PromptRejected,
    copy_outputs,
    free_memory,
    load_workflow,
    queue_prompt,
)
from comfy_tui.services.jobs.client import InstanceJobs, snapshot
from comfy_tui.services.jobs.state import JobEvent
from comfy_tui.store.instance_records import InstanceRecord


def _service(ctx: Context) -> InstancesService:
    return ctx.services.instances


async def running_instance(svc: InstancesService, target: str | None) -> InstanceRecord:
    """The instance named by `target`, or the only running one; it must be running."""
    if target is None:
        live = [v.record for v in await svc.refresh() if v.record.live]
        if not live:
            raise ValidationError("no instance is running (start one with: comfy-tui launch)")
        if len(live) > 1:
            ids = ", ".join(r.id for r in live)
            raise ValidationError(f"several instances run ({ids}); choose one with --instance ID")
        return live[0]
    found = await svc.resolve(target)
    if len(found) > 1:
        ids = ", ".join(r.id for r in found)
        raise ValidationError(f"'{target}' names several instances ({ids}); give one id")
    record = found[0]
    if not record.live:
        raise ValidationError(f"{record.id} is not running ({record.state})")
    return record


def _print_event(ctx: Context, event: JobEvent) -> None:
    if ctx.json:
        out_json_line(event.to_json())
    else:
        out(f"{event.instance}  {event.kind:<8}  {event.text}")


# --- jobs -----------------------------------------------------------------------------------
async def _jobs(ctx: Context, args: argparse.Namespace) -> int:
    svc = _service(ctx)
    record = await running_instance(svc, args.id)
    if not args.follow:
        state = await snapshot(record.id, base_url(record))
        if ctx.json:
            out_json({"id": record.id, "job": state.to_json()})
        else:
            out(f"{record.id}: {state.summary()}")
            if state.prompt_id:
                out(f"  prompt {state.prompt_id}")
            if state.last is not None:
                last = state.last
                out(f"  last prompt {last.prompt_id}: {'ok' if last.ok else 'failed'}")
                if last.error:
                    out(f"  error at {last.error_node}: {last.error}")
        return 0
    watcher = InstanceJobs(record.id, lambda: base_url(record))
    task = asyncio.create_task(watcher.run(lambda e: _print_event(ctx, e)))
    try:
        while not stdout_closed():  # until Ctrl-C, the instance ends or the reader goes
            await asyncio.sleep(1.0)
            current = (await svc.resolve(record.id))[0]
            if not current.live:
                err(f"{record.id} {current.state}: {current.reason or 'ended'}")
                return 0
        return 0
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def run_jobs(ctx: Context, args: argparse.Namespace) -> int:
    return asyncio.run(_jobs(ctx, args))


# --- run --------------------------------------------------------------------------------------
def output_dir(record: InstanceRecord) -> Path:
    """Where ComfyUI writes outputs: its `--output-directory`, else the version's output/."""
    argv = list(record.argv)
    if "--output-directory" in argv[:-1]:
        return Path(argv[argv.index("--output-directory") + 1])
    return Path(record.cwd) / "output"


async def _run(ctx: Context, args: argparse.Namespace) -> int:
    workflow = await asyncio.to_thread(load_workflow, Path(args.workflow))
    svc = _service(ctx)
    record = await running_instance(svc, args.instance)
    url = base_url(record)
    if not args.wait:
        prompt_id, number = await _queue(ctx, url, workflow)
        if ctx.json:
            out_json({"instance": record.id, "prompt_id": prompt_id, "number": number})
        else:
            out(f"queued {prompt_id} on {record.id} (follow it: comfy-tui jobs {record.id} -f)")
        return 0
    events: asyncio.Queue[JobEvent] = asyncio.Queue()
    watcher = InstanceJobs(record.id, lambda: url)
    task = asyncio.create_task(watcher.run(events.put_nowait))
    try:
        while (await events.get()).kind != "link":  # connected: nothing can be missed now
            pass
        prompt_id, _ = await _queue(ctx, url, workflow)
        watcher.tracker.learn(prompt_id, workflow)
        err(f"queued {prompt_id} on {record.id}")
        while True:
            event = await events.get()
            if event.prompt_id == prompt_id and event.kind in ("finished", "failed"):
                break
            if event.prompt_id == prompt_id and event.kind in ("node", "progress", "output"):
                err(f"  {event.text}")
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    base = output_dir(record)
    files = [str(base / name) for name in event.data.get("outputs", [])]
    ok = bool(event.data.get("ok"))
    if ctx.json:
        out_json({"instance": record.id, "prompt_id": prompt_id, **event.data, "outputs": files})
    elif ok:
        out(f"{prompt_id} finished in {format_duration(event.data.get('duration_s'), precision=1)}")
        for path in files:
            out(f"  {path}")
        out(f"(elsewhere: comfy-tui outputs {record.id} {prompt_id} --to DIR)")
    if not ok:
        raise ProcessError(event.text)
    return 0


async def _queue(ctx: Context, url: str, workflow: dict[str, object]) -> tuple[str, int]:
    try:
        return await queue_prompt(url, workflow)
    except PromptRejected as exc:
        for line in exc.lines[1:]:
            err(f"  {line}")
        raise


def run_run(ctx: Context, args: argparse.Namespace) -> int:
    return asyncio.run(_run(ctx, args))


# --- outputs / free ---------------------------------------------------------------------------
async def _outputs(ctx: Context, args: argparse.Namespace) -> int:
    record = await running_instance(_service(ctx), args.id)
    written = await copy_outputs(base_url(record), args.prompt_id, Path(args.to))
    if ctx.json:
        out_json(
            {"instance": record.id, "prompt_id": args.prompt_id, "files": [str(p) for p in written]}
        )
        return 0
    if not written:
        out(f"prompt {args.prompt_id} has no output files")
    for path in written:
        out(str(path))
    return 0


def run_outputs(ctx: Context, args: argparse.Namespace) -> int:
    return asyncio.run(_outputs(ctx, args))


async def _free(ctx: Context, args: argparse.Namespace) -> int:
    record = await running_instance(_service(ctx), args.id)
    await free_memory(base_url(record))
    if ctx.json:
        out_json({"instance": record.id, "freed": True})
    else:
        out(f"asked {record.id} to unload its models and free memory")
    return 0


def run_free(ctx: Context, args: argparse.Namespace) -> int:
    return asyncio.run(_free(ctx, args))

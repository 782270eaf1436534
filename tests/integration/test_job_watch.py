"""JobsService against the real fake ComfyUI: reconnect after a restart, the /queue fallback
where /ws is refused, and an old version's messages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from comfy_tui.events import Finished
from comfy_tui.services.instances.health import base_url
from comfy_tui.services.instances.launch import LaunchRequest
from comfy_tui.services.jobs.api import queue_prompt
from comfy_tui.services.jobs.service import JobsService
from comfy_tui.services.jobs.state import JobEvent
from comfy_tui.store.instance_records import InstanceRecord, require_instance
from tests.fakes.instance_lab import Lab
from tests.fakes.workflows import failing, txt2img
from tests.waiting import LAST_RESORT_S


@pytest.fixture
async def lab(tmp_path: Path) -> AsyncIterator[Lab]:
    lab = Lab(tmp_path)
    yield lab
    await lab.cleanup()


async def launch(lab: Lab, env: dict[str, str] | None = None) -> InstanceRecord:
    svc = lab.service()
    async for event in svc.launch(LaunchRequest(env=env or {})):
        if isinstance(event, Finished):
            break
    [view] = [v for v in await svc.refresh() if v.record.live]
    return view.record


async def next_event(events: asyncio.Queue[JobEvent], kind: str) -> JobEvent:
    async with asyncio.timeout(LAST_RESORT_S):
        while True:
            event = await events.get()
            if event.kind == kind:
                return event


async def test_reconnects_after_a_restart(lab: Lab) -> None:
    record = await launch(lab)
    jobs = JobsService()
    events: asyncio.Queue[JobEvent] = asyncio.Queue()
    jobs.subscribe(events.put_nowait)
    try:
        jobs.watch([record])
        assert (await next_event(events, "link")).data["connected"] is True
        svc = lab.service()
        async for _ in svc.restart(record.id):
            pass
        fresh = await asyncio.to_thread(require_instance, lab.paths, record.id)
        jobs.watch([fresh])
        while True:  # down, then up again
            link = await next_event(events, "link")
            if link.data["connected"]:
                break
        prompt_id, _ = await queue_prompt(base_url(fresh), txt2img(steps=3))
        done = await next_event(events, "finished")
        assert done.prompt_id == prompt_id
        state = jobs.state(record.id)
        assert state is not None and state.last is not None and state.last.ok
    finally:
        await jobs.close()


@pytest.mark.parametrize("knob", ["FAKE_COMFYUI_NO_WS", "FAKE_COMFYUI_WS_LEGACY"])
async def test_old_versions_degrade_to_the_queue(lab: Lab, knob: str) -> None:
    record = await launch(lab, {knob: "1", "FAKE_COMFYUI_STEP_DELAY": "0.05"})
    jobs = JobsService(poll_interval=0.05)
    events: asyncio.Queue[JobEvent] = asyncio.Queue()
    jobs.subscribe(events.put_nowait)
    try:
        jobs.watch([record])
        link = await next_event(events, "link")
        assert link.data["connected"] is True
        state = jobs.state(record.id)
        assert state is not None
        assert state.source == ("queue" if knob == "FAKE_COMFYUI_NO_WS" else "ws")
        prompt_id, _ = await queue_prompt(base_url(record), failing())
        started = await next_event(events, "started")
        assert started.prompt_id == prompt_id
        failed = await next_event(events, "failed")
        assert failed.prompt_id == prompt_id
        if knob == "FAKE_COMFYUI_NO_WS":  # /history carries the error
            assert failed.data["error_node"] == "FakeError (#5)"
    finally:
        await jobs.close()

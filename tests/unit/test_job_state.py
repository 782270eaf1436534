"""JobTracker: /ws messages (as ComfyUI sends them) and /queue snapshots into a JobState."""

from __future__ import annotations

from typing import Any

from comfy_tui.services.jobs.state import JobTracker
from tests.fakes.workflows import txt2img

P = "p-1"


def msg(kind: str, **data: Any) -> dict[str, Any]:
    return {"type": kind, "data": data}


def history(ok: bool = True, start: int = 1000_000, end: int = 1012_500) -> dict[str, Any]:
    messages: list[list[Any]] = [["execution_start", {"prompt_id": P, "timestamp": start}]]
    if ok:
        messages.append(["execution_success", {"prompt_id": P, "timestamp": end}])
    else:
        messages.append(
            [
                "execution_error",
                {
                    "prompt_id": P,
                    "node_id": "3",
                    "node_type": "KSampler",
                    "exception_type": "torch.OutOfMemoryError",
                    "exception_message": "CUDA out of memory.\nTried to allocate 2 GiB",
                    "timestamp": end,
                },
            ]
        )
    return {
        "outputs": {"9": {"images": [{"filename": "a.png", "subfolder": "x", "type": "output"}]}},
        "status": {"status_str": "success" if ok else "error", "messages": messages},
    }


def test_a_client_sees_node_step_queue_and_the_end() -> None:
    t = JobTracker("c1")
    t.feed(msg("status", status={"exec_info": {"queue_remaining": 3}}, sid="me"), 1.0)
    t.learn(P, txt2img(steps=30))
    kinds = [e.kind for e in t.feed(msg("execution_start", prompt_id=P, timestamp=1000), 1.0)]
    assert kinds == ["started"]
    t.feed(msg("executing", node="3", display_node="3", prompt_id=P), 1.1)
    events = t.feed(msg("progress", value=14, max=30, prompt_id=P, node="3"), 1.2)
    assert events[-1].text == "KSampler 14/30"
    assert t.state.summary() == "KSampler 14/30 · 2 queued"
    assert t.state.fraction is not None and abs(t.state.fraction - 14 / 30) < 1e-9
    t.feed(msg("execution_success", prompt_id=P, timestamp=1_012_500), 2.0)
    assert t.ended == [P] and t.state.prompt_id is None
    [done] = t.settle(P, history(), 2.0)
    assert done.kind == "finished" and done.data["outputs"] == ["x/a.png"]
    assert done.data["duration_s"] == 12.5
    t.feed(msg("status", status={"exec_info": {"queue_remaining": 2}}), 2.1)
    assert t.state.summary() == "2 queued"


def test_an_error_names_node_and_exception_line() -> None:
    t = JobTracker("c1")
    t.learn(P, txt2img())
    t.feed(msg("executing", node="3", prompt_id=P), 1.0)
    t.feed(msg("status", status={"exec_info": {"queue_remaining": 0}}), 3.0)  # broadcast only
    [failed] = t.settle(P, history(ok=False), 3.0)
    assert failed.kind == "failed"
    assert failed.data["error_node"] == "KSampler (#3)"
    assert failed.data["error"] == "torch.OutOfMemoryError: CUDA out of memory."
    assert t.state.summary().startswith("failed after ")


def test_a_new_prompt_ends_the_previous_one_and_settles_once() -> None:
    t = JobTracker("c1")
    t.feed(msg("executing", node="1", prompt_id=P), 1.0)
    assert P in t.needs_prompt  # names come from /queue
    t.feed(msg("executing", node="1", prompt_id="p-2"), 2.0)
    assert t.ended == [P] and t.state.prompt_id == "p-2"
    assert len(t.settle(P, None, 2.0)) == 1 and t.settle(P, None, 2.0) == []
    assert t.feed(msg("execution_success", prompt_id=P), 2.0) == []


def test_an_old_version_without_prompt_ids_is_named_from_the_queue() -> None:
    t = JobTracker("c1")
    t.feed(msg("executing", node="3"), 1.0)
    t.feed(msg("progress", value=2, max=20), 1.1)
    assert "" in t.needs_prompt
    t.feed_queue({"queue_running": [[0, P, txt2img(), {}, ["9"]]], "queue_pending": []}, 1.2)
    assert t.state.prompt_id == P and t.state.node_class == "KSampler"
    assert t.state.summary() == "KSampler 2/20"
    t.feed(msg("executing", node=None), 2.0)
    assert t.ended == [P]


def test_queue_polling_alone_follows_prompts() -> None:
    t = JobTracker("c1")
    item = [0, P, txt2img(), {}, ["9"]]
    kinds = [e.kind for e in t.feed_queue({"queue_running": [item], "queue_pending": [item]}, 1)]
    assert kinds == ["started", "queue"] and t.state.queued == 1
    t.feed_queue({"queue_running": [], "queue_pending": []}, 2.0)
    assert t.ended == [P]
    [done] = t.settle(P, {}, 2.0)
    assert done.kind == "finished" and done.data["duration_s"] == 1.0


def test_a_prompt_that_ran_between_two_polls_still_starts_then_ends() -> None:
    """On a loaded box (or a fast prompt) `/queue` may never show it running: its history
    still gives the stream its start, so a watcher always reads started, then the end."""
    t = JobTracker("c1")
    t.feed_queue({"queue_running": [], "queue_pending": []}, 1.0)
    started, failed = t.settle(P, history(ok=False), 2.0)
    assert (started.kind, started.prompt_id) == ("started", P)
    assert (failed.kind, failed.prompt_id) == ("failed", P)
    assert failed.data["duration_s"] == 12.5  # from the history's own stamps
    assert t.settle(P, history(ok=False), 2.0) == []


def test_a_prompt_we_queued_that_ended_before_the_watcher_looked_is_settled() -> None:
    """Queued by the TUI's `w` before its watcher's `/ws` was up: no message ever tells its
    start, so the first `/queue` without it ends it, and `/history` settles it."""
    t = JobTracker("c1")
    t.expect(P, txt2img())
    assert P in t.needs_prompt  # the next follow-up asks /queue
    item = [0, "p-2", txt2img(), {}, []]
    t.feed_queue({"queue_running": [], "queue_pending": [item]}, 1.0)
    assert t.ended == [P]
    started, done = t.settle(P, history(), 2.0)
    assert (started.kind, done.kind) == ("started", "finished")
    still = JobTracker("c1")
    still.expect(P, txt2img())
    still.feed_queue({"queue_running": [], "queue_pending": [[0, P, txt2img(), {}, []]]}, 1.0)
    assert still.ended == [] and P in still.expected  # waiting its turn: not ended


def test_garbage_is_ignored() -> None:
    t = JobTracker("c1")
    for junk in (None, [], {"type": "progress"}, msg("progress", value="x"), msg("nope")):
        assert t.feed(junk, 1.0) == []
    assert t.feed_queue("junk", 1.0) == []
    assert t.state.summary() == "idle"


def test_late_messages_of_a_settled_prompt_are_ignored() -> None:
    t = JobTracker("c1")
    t.feed(msg("executing", node="1", prompt_id=P), 1.0)
    t.feed_queue({"queue_running": [[1, "p-2", txt2img(), {}, []]], "queue_pending": []}, 2.0)
    t.settle(P, None, 2.0)
    assert t.feed(msg("executing", node="9", prompt_id=P), 2.1) == []
    assert t.feed(msg("progress", value=1, max=2, prompt_id=P, node="3"), 2.1) == []
    assert t.state.prompt_id == "p-2" and t.ended == []


def test_the_instances_row_shows_a_bar_and_the_summary() -> None:
    from comfy_tui.services.instances.views import InstanceView
    from comfy_tui.services.jobs.state import JobState
    from comfy_tui.store.instance_records import InstanceRecord
    from comfy_tui.ui.screens.instances_rows import job_cell, job_line

    record = InstanceRecord("c1", "v1", 8188, "127.0.0.1", 0, (), "/", "/l", 0.0, state="running")
    view = InstanceView(record, "http://x", "ssh", queue=3)
    assert job_cell(view, None) == "3 in queue"
    state = JobState(
        prompt_id="abcdef123", node_id="3", node_class="KSampler", node_title="Sampler",
        value=15, max=30, queue_remaining=3, connected=True,
    )  # fmt: skip
    cell = str(job_cell(view, state))
    assert cell.startswith("━━━━") and cell.endswith(" KSampler 15/30 · 2 queued")
    assert job_line(state) == "KSampler “Sampler” 15/30 · prompt abcdef12 · 2 queued"

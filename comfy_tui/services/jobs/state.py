"""What one ComfyUI instance is working on, folded from its `/ws` messages and `/queue`
snapshots (pure: no I/O; the client feeds it and does the lookups it asks for).

ComfyUI sends `status` (queue_remaining) to every socket; `executing` / `progress` /
`executed` to the prompt's client, or to every socket when the prompt was queued without a
client id; `execution_start` / `execution_cached` / `execution_success` / `execution_error`
only to the prompt's client. So a watcher that did not queue the prompt may see only part of
it: the end of a prompt is therefore detected from any of those signals (success, error, a
final `executing` with `node: null`, another prompt starting, the queue running empty) and
settled from `/history`, which keeps every prompt's messages and outputs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from comfy_tui.core.units import format_duration


@dataclass(frozen=True)
class JobEvent:
    """One line of `comfy-tui jobs --follow`: what happened on an instance."""

    kind: str  # started | node | progress | cached | output | finished | failed | queue | link
    instance: str
    text: str
    prompt_id: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    at: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "instance": self.instance,
            "prompt_id": self.prompt_id,
            "text": self.text,
            "at": self.at,
            **dict(self.data),
        }


@dataclass(frozen=True)
class Outcome:
    """How a prompt ended, as read from `/history` (or what was seen, without it)."""

    prompt_id: str
    ok: bool
    duration_s: float | None
    outputs: tuple[str, ...] = ()  # "subfolder/filename" of every output file
    error_node: str = ""  # "KSampler (#3)"
    error: str = ""  # "RuntimeError: CUDA out of memory"
    cached: tuple[str, ...] = ()


@dataclass(frozen=True)
class JobState:
    """The live picture of one instance's work."""

    prompt_id: str | None = None
    node_id: str | None = None
    node_class: str = ""
    node_title: str = ""
    value: int | None = None
    max: int | None = None
    cached: tuple[str, ...] = ()
    queue_remaining: int | None = None
    started_at: float | None = None
    last: Outcome | None = None
    connected: bool = False
    source: str = "ws"  # ws | queue (the fallback when /ws is unusable)

    @property
    def queued(self) -> int:
        """Prompts waiting behind the running one."""
        if self.queue_remaining is None:
            return 0
        return max(0, self.queue_remaining - (1 if self.prompt_id else 0))

    @property
    def fraction(self) -> float | None:
        if self.value is None or not self.max:
            return None
        return min(1.0, max(0.0, self.value / self.max))

    def summary(self) -> str:
        """`KSampler 14/30 · 2 queued`, `idle`, or how the last prompt ended
        (`done in 12s`, `failed after 3s`) when nothing runs."""
        parts = []
        if self.prompt_id:
            name = self.node_class or (f"node {self.node_id}" if self.node_id else "starting")
            if self.value is not None and self.max:
                name += f" {self.value}/{self.max}"
            parts.append(name)
        if self.queued:
            parts.append(f"{self.queued} queued")
        if not parts:
            if self.last is not None:
                took = format_duration(self.last.duration_s, unknown="-")
                return f"done in {took}" if self.last.ok else f"failed after {took}"
            return "idle"
        return " · ".join(parts)

    def to_json(self) -> dict[str, Any]:
        last = self.last
        return {
            "prompt_id": self.prompt_id,
            "node": self.node_id,
            "node_class": self.node_class or None,
            "node_title": self.node_title or None,
            "value": self.value,
            "max": self.max,
            "cached": list(self.cached),
            "queue_remaining": self.queue_remaining,
            "queued": self.queued,
            "summary": self.summary(),
            "source": self.source,
            "last": None
            if last is None
            else {
                "prompt_id": last.prompt_id,
                "ok": last.ok,
                "duration_s": None if last.duration_s is None else round(last.duration_s, 2),
                "outputs": list(last.outputs),
                "error_node": last.error_node or None,
                "error": last.error or None,
            },
        }


def node_names(prompt: Any) -> dict[str, tuple[str, str]]:
    """Node id -> (class, title) from an API-format prompt."""
    names: dict[str, tuple[str, str]] = {}
    if not isinstance(prompt, Mapping):
        return names
    for node_id, node in prompt.items():
        if isinstance(node, Mapping):
            meta = node.get("_meta")
            title = meta.get("title", "") if isinstance(meta, Mapping) else ""
            names[str(node_id)] = (str(node.get("class_type", "")), str(title or ""))
    return names


def output_files(outputs: Any) -> tuple[str, ...]:
    """ "subfolder/filename" of each file in `executed.output` or `/history` outputs."""
    found: list[str] = []
    nodes = outputs.values() if isinstance(outputs, Mapping) else []
    for ui in nodes:
        if not isinstance(ui, Mapping):
            continue
        for items in ui.values():
            for item in items if isinstance(items, list) else []:
                if isinstance(item, Mapping) and isinstance(item.get("filename"), str):
                    sub = str(item.get("subfolder") or "")
                    found.append(f"{sub}/{item['filename']}" if sub else item["filename"])
    return tuple(found)


def exception_line(data: Mapping[str, Any]) -> str:
    """`RuntimeError: message` (first line of the message) from an execution_error."""
    message = str(data.get("exception_message") or "").strip().splitlines()
    kind = str(data.get("exception_type") or "")
    first = message[0] if message else ""
    return f"{kind}: {first}" if kind and first else kind or first or "error"


class JobTracker:
    """Folds messages into a JobState and says what happened (events) and what it needs.

    `needs_prompt` lists prompt ids whose node names are unknown (fetch `/queue`);
    `ended` lists prompt ids that finished and wait for `settle` (fetch `/history`).
    """

    def __init__(self, instance: str) -> None:
        self.instance = instance
        self.state = JobState()
        self.names: dict[str, dict[str, tuple[str, str]]] = {}
        self.needs_prompt: set[str] = set()
        self.ended: list[str] = []
        self.expected: set[str] = set()  # queued by us, no start seen yet (see `expect`)
        self._settled: set[str] = set()
        self._seen_start: dict[str, float] = {}
        self._outputs: dict[str, list[str]] = {}
        self._errors: dict[str, tuple[str, str]] = {}

    def _event(self, kind: str, text: str, now: float, **data: Any) -> JobEvent:
        return JobEvent(kind, self.instance, text, self.state.prompt_id, data, now)

    def expect(self, prompt_id: str, prompt: Any) -> None:
        """A prompt this program just queued. Should it run before the watcher's `/ws` is up
        (no message tells its start), the next `/queue` without it ends it, and `/history`
        settles it: whoever queued it still reads started, then finished or failed."""
        self.learn(prompt_id, prompt)
        if prompt_id not in self._seen_start and prompt_id not in self._settled:
            self.expected.add(prompt_id)
            self.needs_prompt.add(prompt_id)  # the next follow-up asks `/queue`

    def learn(self, prompt_id: str, prompt: Any) -> list[JobEvent]:
        """Node names of a prompt (from `/queue`, or the workflow `run` queued)."""
        self.names[prompt_id] = node_names(prompt)
        self.needs_prompt.discard(prompt_id)
        s = self.state
        if s.prompt_id == prompt_id and s.node_id and not s.node_class:
            cls, title = self.names[prompt_id].get(s.node_id, ("", ""))
            self.state = replace(s, node_class=cls, node_title=title)
        return []

    # --- the start and the end of a prompt -------------------------------------------------
    def _start(self, prompt_id: str, now: float, at: float | None = None) -> list[JobEvent]:
        if self.state.prompt_id == prompt_id or prompt_id in self._settled:
            return []
        events = self._end(now) if self.state.prompt_id else []
        self.expected.discard(prompt_id)
        self._seen_start[prompt_id] = at or now
        self.state = replace(
            self.state,
            prompt_id=prompt_id,
            node_id=None,
            node_class="",
            node_title="",
            value=None,
            max=None,
            cached=(),
            started_at=at or now,
        )
        if prompt_id not in self.names:
            self.needs_prompt.add(prompt_id)
        events.append(self._event("started", f"prompt {prompt_id} started", now))
        return events

    def _end(self, now: float, prompt_id: str | None = None) -> list[JobEvent]:
        ended = prompt_id or self.state.prompt_id
        if ended is None or ended in self._settled or ended in self.ended:
            return []
        self.ended.append(ended)
        if self.state.prompt_id == ended:
            self.state = replace(
                self.state, prompt_id=None, node_id=None, node_class="", node_title="",
                value=None, max=None, started_at=None,
            )  # fmt: skip
        return []

    def settle(self, prompt_id: str, history: Any, now: float) -> list[JobEvent]:
        """Finish `prompt_id` from its `/history` entry (None: from what was seen)."""
        if prompt_id in self._settled:
            return []
        self._settled.add(prompt_id)
        if prompt_id in self.ended:
            self.ended.remove(prompt_id)
        outcome = self._outcome(prompt_id, history if isinstance(history, Mapping) else {}, now)
        self.state = replace(self.state, last=outcome)
        events: list[JobEvent] = []
        if prompt_id not in self._seen_start:  # it ran between two polls of `/queue`: its start
            self._seen_start[prompt_id] = now  # is told now, so every prompt's events read
            text = f"prompt {prompt_id} started"  # started, then finished or failed
            events.append(JobEvent("started", self.instance, text, prompt_id, {}, now))
        if outcome.ok:
            files = ", ".join(outcome.outputs) or "no output files"
            took = format_duration(outcome.duration_s, unknown="-")
            text = f"prompt {prompt_id} finished in {took}: {files}"
            kind = "finished"
        else:
            text = f"prompt {prompt_id} failed at {outcome.error_node or '?'}: {outcome.error}"
            kind = "failed"
        data = {
            "ok": outcome.ok,
            "duration_s": None if outcome.duration_s is None else round(outcome.duration_s, 2),
            "outputs": list(outcome.outputs),
            "error_node": outcome.error_node or None,
            "error": outcome.error or None,
        }
        return [*events, JobEvent(kind, self.instance, text, prompt_id, data, now)]

    def _outcome(self, prompt_id: str, entry: Mapping[str, Any], now: float) -> Outcome:
        status = entry.get("status") if isinstance(entry.get("status"), Mapping) else {}
        assert isinstance(status, Mapping)
        stamps: dict[str, float] = {}
        error: Mapping[str, Any] | None = None
        cached: tuple[str, ...] = ()
        for message in status.get("messages") or []:
            if not (isinstance(message, list) and len(message) == 2):
                continue
            kind, data = message
            if not isinstance(data, Mapping):
                continue
            if isinstance(data.get("timestamp"), int | float):
                stamps[str(kind)] = float(data["timestamp"]) / 1000.0
            if kind == "execution_error":
                error = data
            if kind == "execution_cached":
                cached = tuple(str(n) for n in data.get("nodes") or [])
        began = stamps.get("execution_start", self._seen_start.get(prompt_id))
        ended = stamps.get("execution_success", stamps.get("execution_error", now))
        duration = None if began is None else max(0.0, ended - began)
        outputs = output_files(entry.get("outputs")) or tuple(self._outputs.get(prompt_id, ()))
        if error is None and prompt_id in self._errors:
            node, line = self._errors[prompt_id]
            return Outcome(prompt_id, False, duration, outputs, node, line, cached)
        if error is not None:
            node = self._node_label(
                prompt_id, str(error.get("node_id", "")), error.get("node_type")
            )
            return Outcome(prompt_id, False, duration, outputs, node, exception_line(error), cached)
        ok = status.get("status_str", "success") != "error"
        return Outcome(prompt_id, ok, duration, outputs, cached=cached)

    def _node_label(self, prompt_id: str, node_id: str, node_type: Any = None) -> str:
        cls = str(node_type or self.names.get(prompt_id, {}).get(node_id, ("", ""))[0])
        return f"{cls} (#{node_id})" if cls else f"#{node_id}"

    # --- messages ------------------------------------------------------------------------
    def feed(self, message: Any, now: float) -> list[JobEvent]:
        """One `/ws` JSON message."""
        if not isinstance(message, Mapping):
            return []
        kind, data = message.get("type"), message.get("data")
        if not isinstance(data, Mapping):
            return []
        pid = data.get("prompt_id")
        pid = str(pid) if isinstance(pid, str) else None
        if pid is not None and pid in self._settled and kind != "status":
            return []  # a late message of a prompt already settled (seen ending via /queue)
        handler = getattr(self, f"_on_{kind}", None)
        if handler is None:
            return []
        result: list[JobEvent] = handler(data, pid, now)
        return result

    def _on_status(self, data: Mapping[str, Any], pid: str | None, now: float) -> list[JobEvent]:
        status = data.get("status")
        info = status.get("exec_info") if isinstance(status, Mapping) else None
        remaining = info.get("queue_remaining") if isinstance(info, Mapping) else None
        if not isinstance(remaining, int):
            return []
        events: list[JobEvent] = []
        if remaining == 0 and self.state.prompt_id:
            events += self._end(now)
        if remaining > 0 and not self.state.prompt_id:  # queued by someone else: ask /queue
            self.needs_prompt.add("")
        if remaining != self.state.queue_remaining:
            self.state = replace(self.state, queue_remaining=remaining)
            events.append(
                self._event("queue", f"{remaining} in the queue", now, remaining=remaining)
            )
        return events

    def _on_execution_start(
        self, data: Mapping[str, Any], pid: str | None, now: float
    ) -> list[JobEvent]:
        stamp = data.get("timestamp")
        at = float(stamp) / 1000.0 if isinstance(stamp, int | float) else None
        return self._start(pid, now, at) if pid else []

    def _on_execution_cached(
        self, data: Mapping[str, Any], pid: str | None, now: float
    ) -> list[JobEvent]:
        events = self._start(pid, now) if pid else []
        nodes = tuple(str(n) for n in data.get("nodes") or [])
        self.state = replace(self.state, cached=nodes)
        if nodes:
            events.append(self._event("cached", f"{len(nodes)} cached nodes", now, nodes=nodes))
        return events

    def _on_executing(self, data: Mapping[str, Any], pid: str | None, now: float) -> list[JobEvent]:
        node = data.get("node")
        if node is None:
            return self._end(now, pid)
        events = self._start(pid, now) if pid else []
        if not self.state.prompt_id and pid is None:  # an old version: /queue will name it
            self.needs_prompt.add("")
            events += self._start("?", now)
        node_id = str(node)
        names = self.names.get(self.state.prompt_id or "", {})
        cls, title = names.get(node_id, ("", ""))
        self.state = replace(
            self.state, node_id=node_id, node_class=cls, node_title=title, value=None, max=None
        )
        label = cls or f"node {node_id}"
        events.append(self._event("node", f"executing {label} (#{node_id})", now, node=node_id))
        return events

    def _on_progress(self, data: Mapping[str, Any], pid: str | None, now: float) -> list[JobEvent]:
        value, top = data.get("value"), data.get("max")
        if not (isinstance(value, int) and isinstance(top, int)):
            return []
        events = self._start(pid, now) if pid else []
        node = data.get("node")
        if node is not None and str(node) != self.state.node_id:
            events += self._on_executing({"node": node}, pid, now)
        self.state = replace(self.state, value=value, max=top)
        label = self.state.node_class or "step"
        events.append(self._event("progress", f"{label} {value}/{top}", now, value=value, max=top))
        return events

    def _on_executed(self, data: Mapping[str, Any], pid: str | None, now: float) -> list[JobEvent]:
        files = output_files({"n": data.get("output")})
        if not files:
            return []
        key = pid or self.state.prompt_id or ""
        self._outputs.setdefault(key, []).extend(files)
        return [self._event("output", "wrote " + ", ".join(files), now, files=list(files))]

    def _on_execution_success(
        self, data: Mapping[str, Any], pid: str | None, now: float
    ) -> list[JobEvent]:
        return self._end(now, pid)

    def _on_execution_error(
        self, data: Mapping[str, Any], pid: str | None, now: float
    ) -> list[JobEvent]:
        key = pid or self.state.prompt_id or ""
        node = self._node_label(key, str(data.get("node_id", "")), data.get("node_type"))
        self._errors[key] = (node, exception_line(data))
        return self._end(now, pid)

    _on_execution_interrupted = _on_execution_error

    # --- the /queue fallback ---------------------------------------------------------------
    def feed_queue(self, snapshot: Any, now: float) -> list[JobEvent]:
        """A `/queue` answer: the running prompt and how many wait."""
        if not isinstance(snapshot, Mapping):
            return []
        running = snapshot.get("queue_running") or []
        pending = snapshot.get("queue_pending") or []
        events: list[JobEvent] = []
        current = None
        for item in running[:1]:
            if isinstance(item, list) and len(item) > 2:
                current = str(item[1])
                if current not in self.names:
                    self.learn(current, item[2])
        for item in pending:
            if isinstance(item, list) and len(item) > 2 and str(item[1]) not in self.names:
                self.learn(str(item[1]), item[2])
        if self.state.prompt_id == "?" and current:  # an old version's anonymous prompt
            self.state = replace(self.state, prompt_id=current)
            self._seen_start[current] = self._seen_start.pop("?", now)
            self.needs_prompt.discard("")
            if self.state.node_id:
                cls, title = self.names.get(current, {}).get(self.state.node_id, ("", ""))
                self.state = replace(self.state, node_class=cls, node_title=title)
        if current != self.state.prompt_id:
            if current is None:
                events += self._end(now)
            else:
                events += self._start(current, now)
        waiting = {str(item[1]) for item in pending if isinstance(item, list) and len(item) > 2}
        for gone in self.expected - waiting - {current}:  # ran and ended between two looks
            self.expected.discard(gone)
            if gone not in self._seen_start and gone not in self.ended:
                self.ended.append(gone)
        remaining = len(running) + len(pending)
        if remaining != self.state.queue_remaining:
            self.state = replace(self.state, queue_remaining=remaining)
            events.append(
                self._event("queue", f"{remaining} in the queue", now, remaining=remaining)
            )
        return events

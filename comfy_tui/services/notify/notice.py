"""What is worth telling the user, found by comparing state before and after (pure).

Each source is compared with what the previous look saw, so a notifier started later (or
in another process, `comfy-tui watch`) reports changes, never the past.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from comfy_tui.core.units import format_duration
from comfy_tui.services.jobs.state import JobEvent
from comfy_tui.store.instance_records import InstanceRecord

KINDS = (
    "job_finished",
    "job_failed",
    "instance_crashed",
    "instance_restarted",
    "download_finished",
    "download_failed",
    "install_finished",
)


@dataclass(frozen=True)
class Notice:
    """One notification: a short title and one line of body."""

    kind: str
    title: str
    body: str
    at: float
    instance: str | None = None
    data: Mapping[str, Any] | None = None

    @property
    def failure(self) -> bool:
        return self.kind in ("job_failed", "instance_crashed", "download_failed")

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "title": self.title,
            "body": self.body,
            "at": self.at,
            "instance": self.instance,
            **dict(self.data or {}),
        }


def job_notice(event: JobEvent, label: str) -> Notice | None:
    """A finished or failed prompt; `label` names the instance ("v0.3.77 :8188")."""
    if event.kind == "finished":
        files = event.data.get("outputs") or []
        shown = ", ".join(str(f) for f in files[:3]) + (" …" if len(files) > 3 else "")
        secs = event.data.get("duration_s")
        took = f" in {format_duration(secs, precision=1)}" if isinstance(secs, int | float) else ""
        body = f"prompt done{took}" + (f": {shown}" if shown else "")
        return Notice(
            "job_finished",
            f"Job finished on {label}",
            body,
            event.at,
            event.instance,
            dict(event.data) | {"prompt_id": event.prompt_id},
        )
    if event.kind == "failed":
        node = event.data.get("error_node") or "?"
        body = f"{node}: {event.data.get('error') or 'error'}"
        return Notice(
            "job_failed",
            f"Job failed on {label}",
            body,
            event.at,
            event.instance,
            dict(event.data) | {"prompt_id": event.prompt_id},
        )
    return None


def instance_notices(
    before: Mapping[str, InstanceRecord], after: Iterable[InstanceRecord], now: float
) -> list[Notice]:
    """Crashes and automatic restarts since the previous look."""
    notices = []
    for record in after:
        old = before.get(record.id)
        if old is None:
            continue
        label = f"{record.version} :{record.port}"
        if record.state == "crashed" and old.state != "crashed":
            notices.append(
                Notice(
                    "instance_crashed",
                    f"Instance {record.id} crashed",
                    f"{label}: {record.reason or 'exited'}",
                    now,
                    record.id,
                    {"exit_code": record.exit_code},
                )
            )
        elif len(record.restart_times) > len(old.restart_times):
            notices.append(
                Notice(
                    "instance_restarted",
                    f"Instance {record.id} restarted",
                    f"{label}: {record.reason or 'restarted after a crash'}",
                    now,
                    record.id,
                    {"restarts": record.restarts},
                )
            )
    return notices


def download_notices(
    before: Mapping[str, str], after: Iterable[tuple[str, str, str, str]], now: float
) -> list[Notice]:
    """(id, state, name, error) of each download; finished or failed since the last look."""
    notices = []
    for item_id, state, name, error in after:
        old = before.get(item_id)
        if old is None or old == state:
            continue
        if state == "done":
            notices.append(Notice("download_finished", "Download finished", name, now))
        elif state == "failed":
            notices.append(Notice("download_failed", "Download failed", f"{name}: {error}", now))
    return notices


def install_notices(before: set[str], after: Iterable[str], now: float) -> list[Notice]:
    """Versions installed since the last look."""
    return [
        Notice("install_finished", "Install finished", f"ComfyUI {tag} is installed", now)
        for tag in after
        if tag not in before
    ]

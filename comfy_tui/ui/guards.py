"""Guards before questions, for the screens: a change a live instance forbids is never asked
about and then refused.

- `refused`: the change is refused at once (an error dialog naming the instance and the way
  out), never after "are you sure?" (node changes, snapshot restores).
- `in_use_question`: for a change whose way out is to stop the version's instances (remove,
  update, rollback), the one question offers it: "v0.3.77 is running on :8188 — stop it and
  remove?"; yes stops them (`stop_live`), then makes the change.

The services check again under the version lock when the change runs; this is the early
answer the CLI gives too (`VersionInUseError`, one line).
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any

from textual.app import App

from comfy_tui.errors import VersionInUseError

if TYPE_CHECKING:
    from comfy_tui.services.instances.service import InstancesService
    from comfy_tui.store.instance_records import InstanceRecord

WAY_OUT = "Stop it on the Instances screen (4, then x) and try again."


async def refused(app: App[Any], title: str, check: Awaitable[None]) -> bool:
    """Run a service's `check_*`; when a live instance forbids the change, show why and how
    to get out of it, and return True (the caller then asks nothing and changes nothing)."""
    try:
        await check
    except VersionInUseError as exc:
        from comfy_tui.ui.dialogs.error import ErrorScreen

        app.push_screen(ErrorScreen(title, f"{exc}\n{WAY_OUT}"))
        return True
    return False


def in_use_question(tag: str, live: Sequence[InstanceRecord], doing: str) -> str:
    """ "v0.3.77 is running on :8188 (c4a1f0) — stop it and remove?" (or "them", for more)."""
    if len(live) == 1:
        r = live[0]
        return f"{tag} is {r.state} on :{r.port} ({r.id}) — stop it and {doing}?"
    where = ", ".join(f":{r.port} ({r.id})" for r in live)
    return f"{tag} has {len(live)} live instances ({where}) — stop them and {doing}?"


async def stop_live(instances: InstancesService, live: Sequence[InstanceRecord]) -> None:
    """Stop each of `live` (and wait until it has ended)."""
    for record in live:
        await instances.stop(record.id)

"""`rollback NAME`: undo the last lifecycle change of NAME (services/lifecycle/changes.py).

- After `update NAME`: NAME's folder and its rollback point trade places (under the version
  lock, refused while NAME runs): the previous checkout + environment + custom nodes are NAME
  again, the user's files in `user/`, `output/`, `input/`, `models/` move back, the previous
  record is written; the newer checkout becomes the rollback point, so a second rollback
  redoes the update.
- After `upgrade NAME TO --switch`: see services/lifecycle/switch.py (`switch_back`).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncGenerator
from pathlib import Path

from comfy_tui.core.refs import short
from comfy_tui.errors import InstallError, NotFoundError
from comfy_tui.events import Event, Finished, LogLine, Progress
from comfy_tui.paths import DataPaths
from comfy_tui.services.lifecycle import carry, changes
from comfy_tui.services.version_guard import VersionGuard
from comfy_tui.store import version_records
from comfy_tui.store.version_records import VersionRecord

__all__ = ["rollback_update"]


async def rollback_update(
    paths: DataPaths, guard: VersionGuard, change: changes.Change
) -> AsyncGenerator[Event, None]:
    name = change.name
    async with guard.changing(name, f"roll back {name}"):
        record = await asyncio.to_thread(version_records.load_record, paths, name)
        point = changes.rollback_dir(paths, name)
        if record is None:
            raise NotFoundError(f"{name} is not installed")
        if not point.is_dir() or record.commit != change.current_commit:
            raise InstallError(
                f"the rollback point of {name} is gone or belongs to another install of it "
                "(rollback points last until the next update, at most trash_keep_days)"
            )
        previous = change.previous_record(paths.version_record(name))
        yield Progress("rollback", 0.1, detail=f"back to {short(previous.commit)}")
        await asyncio.to_thread(_trade, paths, record, previous, point)
    yield LogLine(
        f"{name} is on {short(previous.commit)} again; {short(record.commit)} is the rollback "
        "point now (rollback again to go forward)",
        "comfy-tui",
    )
    yield Finished(f"{name} rolled back to {short(previous.commit)}")


def _trade(paths: DataPaths, current: VersionRecord, previous: VersionRecord, point: Path) -> None:
    final = Path(current.path)
    entries = [e for e in carry.user_entries(final) if not e.startswith("custom_nodes")]
    aside = paths.versions_dir() / f".swap-{current.tag}-{secrets.token_hex(4)}"
    final.rename(aside)
    try:
        point.rename(final)
    except OSError:
        aside.rename(final)
        raise
    aside.rename(point)
    carry.move_entries(point, final, entries)
    changes.record_update(paths, current, previous)

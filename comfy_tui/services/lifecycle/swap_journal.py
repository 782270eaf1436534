"""The journal of an update's swap, and settling a swap a kill interrupted (blocking file work).

`update NAME` writes `metadata/journals/swap-NAME.json` (the record before, the record after,
the staging folder) before its first rename and deletes it after the new record is written.
When a command starts and finds one (`lifecycle.has_swaps`: one directory scan),
`settle_swaps` makes the version whole again, one line each:

- NAME's folder is missing (killed between the two renames): the old checkout comes back from
  the rollback point (the update is undone; the staging folder is deleted);
- NAME's folder is the new checkout but the record is the old one (killed while the user's
  files moved, or before the record): the move is finished and the new record written (the
  update is done, the old checkout is the rollback point);
- otherwise the swap had not started: nothing changes.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from comfy_tui.paths import DataPaths
from comfy_tui.services import staging
from comfy_tui.services.git import git_env
from comfy_tui.services.lifecycle import SWAP_PREFIX, carry, changes
from comfy_tui.store.jsonfile import read_json, write_json
from comfy_tui.store.version_records import VersionRecord

__all__ = ["begin", "end", "settle_swaps"]


def _dir(paths: DataPaths) -> Path:
    return paths.metadata_dir() / "journals"


def _file(paths: DataPaths, name: str) -> Path:
    return _dir(paths) / f"{SWAP_PREFIX}{name}.json"


def begin(paths: DataPaths, before: VersionRecord, after: VersionRecord, work: Path) -> None:
    _dir(paths).mkdir(parents=True, exist_ok=True, mode=0o700)
    document = {"before": before.to_json(), "after": after.to_json(), "work": str(work)}
    write_json(_file(paths, before.tag), document)


def end(paths: DataPaths, name: str) -> None:
    path = _file(paths, name)
    for p in (path, path.with_name(path.name + ".bak")):
        p.unlink(missing_ok=True)


def _head(checkout: Path) -> str:
    run = subprocess.run(
        ["git", "-C", str(checkout), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        env=git_env(),
        timeout=60,
        check=False,
    )
    return run.stdout.strip() if run.returncode == 0 else ""


def settle_swaps(paths: DataPaths) -> list[str]:
    """Settle every interrupted swap; one line each (see the module docstring)."""
    lines = []
    for journal in sorted(_dir(paths).glob(f"{SWAP_PREFIX}*.json")):
        document = read_json(journal)
        before = VersionRecord.from_json(dict(document["before"]), journal)
        after = VersionRecord.from_json(dict(document["after"]), journal)
        lines.append(_settle(paths, before, after, Path(document["work"])))
        end(paths, before.tag)
    return lines


def _settle(paths: DataPaths, before: VersionRecord, after: VersionRecord, work: Path) -> str:
    name, final = before.tag, Path(before.path)
    point = changes.rollback_dir(paths, name)
    if not final.exists() and point.is_dir():
        point.rename(final)
        staging.remove_tree(work)
        return f"the update of {name} was interrupted: {name} is back as it was"
    if final.is_dir() and point.is_dir() and _head(final) == after.commit:
        entries = [e for e in carry.user_entries(point) if not e.startswith("custom_nodes")]
        carry.move_entries(point, final, entries)
        changes.record_update(paths, before, after)
        return f"the update of {name} was interrupted: it is finished now"
    staging.remove_tree(work)
    return f"the update of {name} was interrupted before it changed anything"

"""The snapshot-restore journal: a killed restore is found and settled by the next command.

A restore writes `metadata/journals/restore-<tag>.json` (atomic JSON) when it takes the
version's lock, with the phase it is in:

- ``checking``: checks and the "before" snapshot; nothing of the version has changed yet;
- ``applying``: nodes and packages are being changed; the journal names the "before" snapshot;
- ``applied``: everything is done, only the journal is left to remove.

The restore removes its journal however it ends (success, or failure after putting the previous
state back). A journal found later therefore belongs to a killed restore, which
`services/envsnap/recover.py` settles. With no journal the folder does not exist either, so
`has_journals` costs one failed directory open: cheap enough for the start of every command.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path
from typing import Any

from comfy_tui.errors import ComfyTuiError
from comfy_tui.paths import DataPaths

__all__ = ["begin", "end", "has_journals", "journal_dir", "pending", "set_phase"]

_PREFIX = "restore-"


def journal_dir(paths: DataPaths) -> Path:
    """Not created here: only a restore in progress (or a killed one) has this folder."""
    return paths.root / "metadata" / "journals"


def _path(paths: DataPaths, tag: str) -> Path:
    return journal_dir(paths) / f"{_PREFIX}{tag}.json"


def has_journals(paths: DataPaths) -> bool:
    """True when some restore journal may exist (one directory open when none does)."""
    try:
        with os.scandir(journal_dir(paths)) as entries:
            return any(e.name.startswith(_PREFIX) and e.name.endswith(".json") for e in entries)
    except (FileNotFoundError, NotADirectoryError):
        return False


def begin(paths: DataPaths, tag: str, target: str) -> None:
    """A restore of `tag` to snapshot `target` starts (the caller holds the version lock)."""
    document = {
        "tag": tag,
        "target": target,
        "before": None,
        "phase": "checking",
        "pid": os.getpid(),
        "started_at": time.time(),
    }
    from comfy_tui.store.jsonfile import write_json

    write_json(_path(paths, tag), document)


def set_phase(paths: DataPaths, tag: str, phase: str, **more: Any) -> None:
    from comfy_tui.store.jsonfile import update_json

    update_json(_path(paths, tag), lambda doc: {**doc, **more, "phase": phase})


def end(paths: DataPaths, tag: str) -> None:
    """Forget the journal of `tag`, and the folder when it is the last one."""
    from comfy_tui.store.jsonfile import backup_path, lock_path

    path = _path(paths, tag)
    for file in (path, backup_path(path), lock_path(path)):
        file.unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # another restore's journal is there: keep the folder
        journal_dir(paths).rmdir()


def pending(paths: DataPaths) -> list[tuple[str, dict[str, Any] | None]]:
    """(tag, journal) of every journal found; None for one that cannot be read."""
    found: list[tuple[str, dict[str, Any] | None]] = []
    folder = journal_dir(paths)
    try:
        names = sorted(os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return found
    from comfy_tui.store.jsonfile import read_json

    for name in names:
        if not (name.startswith(_PREFIX) and name.endswith(".json")):
            continue
        tag = name.removeprefix(_PREFIX).removesuffix(".json")
        try:
            found.append((tag, read_json(folder / name)))
        except (OSError, ComfyTuiError):  # a damaged journal is reported, never fatal
            found.append((tag, None))
    return found

"""`update NAME [--to REF]`: move an installed version to another commit, in place.

Under the version's lock, held exclusive through the guard (refused while an instance of NAME
is live, and no launch starts until it ends):

1. fetch the mirror and resolve the ref (the branch NAME follows, or `--to REF`); nothing to
   do when NAME is already on that commit;
2. check the commit out into `versions/.staging-NAME-*`; the environment becomes a hard-linked
   clone of NAME's (`carry.clone_venv`), then requirements.txt is installed into it with the
   torch pins (only what changed is downloaded or linked);
3. custom nodes are carried (links to shared nodes made again, own nodes copied), then the
   smoke test runs with them loaded; a node that no longer imports is reported, not fatal;
4. the swap: NAME's folder becomes the rollback point `versions/.rollback-NAME` (the previous
   one is deleted), the staging folder becomes `versions/NAME`, the user's files in `user/`,
   `output/`, `input/`, `models/` move across (renames), and the record is written, last.

Any failure before the swap deletes the staging folder and leaves NAME as it was.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from pathlib import Path

from comfy_tui.core import install_plan as plan
from comfy_tui.core.install_progress import parse_comfyui_version
from comfy_tui.core.node_load import read_node_loads
from comfy_tui.core.refs import short
from comfy_tui.errors import InstallError, NotFoundError, ValidationError
from comfy_tui.events import Finished, LogLine, Progress, Step, forwards
from comfy_tui.paths import DataPaths
from comfy_tui.services import faults, staging
from comfy_tui.services.envs import EnvBuilder, child_env, find_uv
from comfy_tui.services.lifecycle import carry, changes, swap_journal
from comfy_tui.services.lifecycle.refmirror import RefMirror
from comfy_tui.services.smoke import SmokeTest
from comfy_tui.services.version_guard import VersionGuard
from comfy_tui.settings import Settings
from comfy_tui.store import version_records
from comfy_tui.store.version_records import VersionRecord

log = logging.getLogger(__name__)

__all__ = ["env_builder", "node_lines", "update_version"]

CONSTRAINTS_NAME = "comfy-tui-constraints.txt"


def env_builder(settings: Settings, paths: DataPaths, record: VersionRecord) -> EnvBuilder:
    """uv or pip, as the version was installed (pip when uv is missing), our sources only."""
    uv = find_uv() if record.installer == "uv" else None
    installer = "uv" if uv else "pip"
    sources = plan.Sources(settings.index_url, settings.extra_index_urls, settings.find_links)
    env = child_env(os.environ, uv_cache=paths.uv_cache(), pip_cache=paths.pip_cache())
    return EnvBuilder(
        installer, settings.python, sources, paths.uv_cache(), paths.pip_cache(), env, uv
    )


def node_lines(lines: list[str], expected: list[str]) -> list[LogLine]:
    """One LogLine per custom node that did not load in a smoke test's output."""
    loads = read_node_loads(lines, expected)
    return [
        LogLine(f"custom node {n.name}: {n.status}: {n.error}", "smoke")
        for n in loads.values()
        if not n.ok
    ]


@forwards
async def update_version(
    settings: Settings, paths: DataPaths, guard: VersionGuard, name: str, to: str | None
) -> AsyncGenerator[Step, None]:
    """The update job (see the module docstring); the caller validated `name` and `to`."""
    record = await asyncio.to_thread(version_records.load_record, paths, name)
    if record is None:
        raise NotFoundError(f"{name} is not installed (comfy-tui versions lists what is)")
    if getattr(record, "adopted", ""):
        raise ValidationError(f"{name} is an adopted folder: comfy-tui does not update it")
    ref = to or record.ref
    if not ref:
        raise ValidationError(
            f"{name} is the release {name}, which does not move: give --to REF "
            "(a tag, branch or commit)"
        )
    busy = f"{name} is being installed, launched or changed right now"
    async with guard.changing(name, f"update {name}", busy=busy):
        await asyncio.to_thread(changes.prune, paths, settings.trash_keep_days)
        mirror = RefMirror(settings.comfyui_repo, paths.comfyui_mirror(), ref)
        yield Progress("fetch", 0.0, detail=f"fetching {ref}")
        yield mirror.update(ref, always=True)
        found = mirror.resolved
        assert found is not None
        if found.commit == record.commit:
            yield Finished(f"{name} is already at {short(found.commit)} ({ref}): nothing to do")
            return
        yield LogLine(
            f"updating {name} from {short(record.commit)} to {short(found.commit)} ({ref})",
            "comfy-tui",
        )
        work = await asyncio.to_thread(staging.new_staging_dir, paths, name)
        built: list[VersionRecord] = []
        swapped = False
        try:
            yield _build(settings, paths, record, mirror, work, (ref, found.commit), built)
            await asyncio.to_thread(_swap, paths, record, built[0], work)
            swapped = True
        finally:
            if not swapped:
                await asyncio.to_thread(staging.remove_tree, work)
    yield Progress("swap", 1.0, detail="updated")
    yield Finished(
        f"{name} updated to {short(found.commit)} ({ref}); the previous checkout is the "
        f"rollback point (comfy-tui rollback {name})"
    )


@forwards
async def _build(
    settings: Settings,
    paths: DataPaths,
    record: VersionRecord,
    mirror: RefMirror,
    work: Path,
    target: tuple[str, str],
    built: list[VersionRecord],
) -> AsyncGenerator[Step, None]:
    """Check out, environment, nodes, smoke test in `work`; appends the new record to `built`."""
    ref, commit = target
    old = Path(record.path)
    yield Progress("clone", 0.1, detail=f"checking out {short(commit)}")
    yield mirror.checkout(record.tag, work)
    envs = env_builder(settings, paths, record)
    venv = work / ".venv"
    yield Progress("venv", 0.3, detail="cloning the environment")
    await asyncio.to_thread(
        carry.clone_venv, old / ".venv", venv, hardlinks=record.installer == "uv"
    )
    requirements = work / "requirements.txt"
    if requirements.is_file():
        yield Progress("requirements", 0.4, detail="requirements.txt (what changed)")
        constraints = venv / CONSTRAINTS_NAME
        install = envs.install_requirements(
            venv,
            requirements,
            constraints if constraints.is_file() else None,
            extra=plan.known_missing(record.tag),
        )
        yield install
    carried = await asyncio.to_thread(carry.copy_nodes, old, work)
    if carried:
        yield LogLine(f"custom nodes carried: {', '.join(carried)}", "comfy-tui")
    yield Progress("smoke", 0.7, detail="smoke test with the custom nodes")
    smoke = SmokeTest(envs.venv_python(venv), work, envs.env)
    lines: list[str] = []
    async with aclosing(smoke.run()) as stream:
        async for event in stream:
            if isinstance(event, LogLine):
                lines.append(event.text)
            yield event
    for line in node_lines(lines, [n for n in carried if not n.endswith(".disabled")]):
        yield line
    facts = await envs.describe(venv)
    version_file = work / "comfyui_version.py"
    text = await asyncio.to_thread(_read, version_file)
    built.append(
        dataclasses.replace(
            record,
            commit=commit,
            ref=ref,
            comfyui_version=parse_comfyui_version(text) if text else "",
            torch_version=facts.get("torch", record.torch_version),
            smoke=smoke.result,
            flags=smoke.flags,
            installer=envs.installer,
            installed_at=time.time(),
        )
    )


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _swap(paths: DataPaths, before: VersionRecord, after: VersionRecord, work: Path) -> None:
    """The old folder becomes the rollback point, `work` the version; user files move; the
    record last. Blocking."""
    final = Path(before.path)
    point = changes.rollback_dir(paths, before.tag)
    if point.exists():
        gone = staging.new_removing_dir(paths, before.tag)
        point.rename(gone)
        staging.remove_tree(gone)
    entries = carry.user_entries(final)
    swap_journal.begin(paths, before, after, work)
    final.rename(point)
    faults.checkpoint("update.aside")
    try:
        work.rename(final)
    except OSError:
        point.rename(final)
        swap_journal.end(paths, before.tag)
        raise
    faults.checkpoint("update.swapped")
    left = carry.move_entries(
        point, final, [e for e in entries if not e.startswith("custom_nodes")]
    )
    if left:
        log.warning(
            "%s: left in the rollback point (the new checkout has them): %s", before.tag, left
        )
    if after.installer == "pip":
        staging.relink_scripts(final / ".venv", work / ".venv", final / ".venv")
    changes.record_update(paths, before, after)
    swap_journal.end(paths, before.tag)
    if not (final / ".venv").is_dir():
        raise InstallError(f"{before.tag}: the new environment is missing after the swap")

"""An installed version as nodes and snapshots see it: its folder, venv, torch backend and pins.

The pins are the install's constraints file (`.venv/comfy-tui-constraints.txt`: the torch
family at the exact versions chosen at install time). After a forced torch change or a restore
that changed the torch family, `refresh_torch_pins` rewrites it and the version record, so the
next node install protects what is really installed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path

from comfy_tui.core import install_plan as plan
from comfy_tui.errors import NotFoundError
from comfy_tui.paths import DataPaths
from comfy_tui.services.envs import venv_facts
from comfy_tui.services.install_phases import CONSTRAINTS_NAME
from comfy_tui.store import version_records
from comfy_tui.store.version_records import VersionRecord
from comfy_tui.validate import validate_tag

log = logging.getLogger(__name__)

__all__ = ["VersionEnv", "load_version", "refresh_torch_pins"]


@dataclass(frozen=True)
class VersionEnv:
    record: VersionRecord

    @property
    def tag(self) -> str:
        return self.record.tag

    @property
    def path(self) -> Path:
        return Path(self.record.path)

    @property
    def python(self) -> Path:
        return Path(self.record.python)

    @property
    def venv(self) -> Path:
        return self.python.parent.parent

    @property
    def backend(self) -> str:
        return self.record.torch_backend

    @property
    def torch_index(self) -> str:
        """The index the version's torch came from ("" = the configured sources)."""
        return self.record.torch_index

    @property
    def constraints(self) -> Path:
        return self.venv / CONSTRAINTS_NAME


async def load_version(paths: DataPaths, tag: str) -> VersionEnv:
    """The installed version `tag`; NotFoundError when it is not installed."""
    tag = validate_tag(tag)
    record = await asyncio.to_thread(version_records.load_record, paths, tag)
    if record is None:
        raise NotFoundError(f"{tag} is not installed (comfy-tui versions lists what is)")
    return VersionEnv(record)


def _refresh(paths: DataPaths, env: VersionEnv) -> str:
    facts = venv_facts(env.venv)
    text = plan.constraints_text(facts)
    old = env.constraints.read_text(encoding="utf-8") if env.constraints.is_file() else ""
    if text == old or (not old and not facts.get("torch")):
        return ""
    env.constraints.write_text(text, encoding="utf-8")
    record = dataclasses.replace(env.record, torch_version=facts.get("torch", ""))
    version_records.save_record(paths, record)
    pinned = ", ".join(f"{n} {facts[n]}" for n in plan.TORCH_FAMILY if facts.get(n)) or "nothing"
    log.info("%s: torch pins now %s", env.tag, pinned)
    return pinned


async def refresh_torch_pins(paths: DataPaths, env: VersionEnv) -> str:
    """Re-pin the torch family to what the venv holds; what is pinned now, "" if unchanged."""
    return await asyncio.to_thread(_refresh, paths, env)

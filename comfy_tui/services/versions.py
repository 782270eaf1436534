"""VersionsService: the installed ComfyUI versions, installs, removal and the default version.

The one API both front ends use for issue 3's install half. A version is installed iff its
record `metadata/versions/<tag>.json` exists (written last by the installer). Every method is
async (file work runs in a thread) except `install`, which returns an async iterator of events
(`Progress`, `LogLine`, then `Finished`), and raises a `ComfyTuiError` subclass on failure::

    service = VersionsService(settings, paths)
    async for event in service.install("v0.3.77", torch="auto"):
        ...  # Progress(step="clone"|"venv"|"torch"|"requirements"|"smoke", fraction=0..1)
    record = await service.get("v0.3.77")
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from comfy_tui.errors import NotFoundError
from comfy_tui.events import Event
from comfy_tui.paths import DataPaths
from comfy_tui.services.gpu_detect import DriverInfo, detect_driver
from comfy_tui.settings import Settings
from comfy_tui.store import version_records
from comfy_tui.store.version_records import VersionRecord
from comfy_tui.validate import validate_tag

IsRunning = Callable[[str], bool]
"""`is_running(tag)`: True while an instance of that version runs (remove is then refused)."""


def _never_running(tag: str) -> bool:
    return False


def version_sort_key(tag: str) -> tuple[tuple[int, int | str], ...]:
    """A natural sort key (v0.3.9 < v0.3.75 < v0.4.0); newest last.

    TODO: use the real version parser of comfy_tui/core/versions.py once it lands.
    """
    parts = re.findall(r"\d+|[^\d]+", tag)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)


class VersionsService:
    """Installed versions, installs (as event iterators), removal and the default version."""

    def __init__(
        self,
        settings: Settings,
        paths: DataPaths,
        *,
        is_running: IsRunning = _never_running,
        detect_gpu: Callable[[], DriverInfo | None] = detect_driver,
    ) -> None:
        self.settings = settings
        self.paths = paths
        self.is_running = is_running
        self.detect_gpu = detect_gpu

    # --- reading ---------------------------------------------------------------------------
    async def installed(self) -> list[VersionRecord]:
        """Every installed version, newest first."""
        records = await asyncio.to_thread(version_records.list_records, self.paths)
        return sorted(records, key=lambda r: version_sort_key(r.tag), reverse=True)

    async def get(self, tag: str) -> VersionRecord | None:
        """The record of one installed version, or None."""
        return await asyncio.to_thread(version_records.load_record, self.paths, validate_tag(tag))

    def installing(self) -> frozenset[str]:
        """Tags this process is installing right now."""
        raise NotImplementedError

    def install_log(self, tag: str) -> Path:
        """The log file of the last install of `tag` (every LogLine, one per line)."""
        raise NotImplementedError

    # --- changing ----------------------------------------------------------------------------
    def install(self, tag: str, torch: str = "auto") -> AsyncIterator[Event]:
        """Install ComfyUI `tag` with the torch build `torch` (auto|cpu|cuXXX|rocmX.Y|none).

        Yields weighted `Progress` for the steps clone, venv, torch, requirements, smoke, the
        live git/uv/pip output as `LogLine`, and `Finished` when the record is written.
        Raises ValidationError (bad tag or torch value), InstallError (already installed, a
        step failed), LockBusyError (the tag is being installed elsewhere), NotFoundError (no
        such tag) or NetworkError (repository unreachable); nothing is left on disk then.
        Cancelling the consuming task kills the child process group and cleans up.
        """
        raise NotImplementedError

    async def remove(self, tag: str) -> None:
        """Delete an installed version (record first, then its folder).

        Raises NotFoundError when it is not installed, InstallError while an instance of it
        runs, LockBusyError while it is being installed.
        """
        raise NotImplementedError

    async def get_default(self) -> str | None:
        """The default version's tag, or None."""
        return await asyncio.to_thread(version_records.get_default, self.paths)

    async def set_default(self, tag: str | None) -> None:
        """Make an installed version the default (None clears it); NotFoundError otherwise."""
        if tag is not None:
            tag = validate_tag(tag)
            if await self.get(tag) is None:
                raise NotFoundError(f"{tag} is not installed")
        await asyncio.to_thread(version_records.set_default, self.paths, tag)

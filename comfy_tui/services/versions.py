"""VersionsService: the installed ComfyUI versions, installs, removal and the default version.

The one API both front ends use for installed versions. A version is installed iff its
record `metadata/versions/<tag>.json` exists (written last by the installer). Every method is
async (file work runs in a thread) except `install`, which returns an async iterator of events
(`Progress`, `LogLine`, then `Finished`), and raises a `ComfyTuiError` subclass on failure::

    service = VersionsService(settings, paths, guard=services.guard)
    async for event in service.install("v0.3.77", torch="auto"):
        ...  # Progress(step="clone"|"venv"|"torch"|"requirements"|"smoke", fraction=0..1)
    record = await service.get("v0.3.77")
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator, Callable, Iterable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from comfy_tui.aio import to_thread
from comfy_tui.core.versions import sort_newest_first
from comfy_tui.errors import LockBusyError, NotFoundError
from comfy_tui.events import Event, Step, forwards
from comfy_tui.paths import DataPaths
from comfy_tui.services import staging, trashbin
from comfy_tui.services.version_guard import VersionGuard
from comfy_tui.settings import Settings
from comfy_tui.store import version_records
from comfy_tui.store.version_records import VersionRecord
from comfy_tui.validate import validate_tag, validate_url

if TYPE_CHECKING:
    from comfy_tui.core.size_estimate import SizeEstimate
    from comfy_tui.core.torch_backend import TorchChoice
    from comfy_tui.services.disk_usage import DiskReport
    from comfy_tui.services.gpu_detect import DriverInfo
    from comfy_tui.services.installer import Installer
    from comfy_tui.store.install_choices import InstallChoices

log = logging.getLogger(__name__)


def validate_torch_index(value: str) -> str:
    """A torch index URL (https://, file://, loopback http://) or "sources"; ValidationError."""
    return "sources" if value == "sources" else validate_url(value, allow_local=True)


class VersionsService:
    """Installed versions, installs (as event iterators), removal and the default version."""

    def __init__(
        self,
        settings: Settings,
        paths: DataPaths,
        *,
        guard: VersionGuard,
        detect_gpu: Callable[[], DriverInfo | None] | None = None,
    ) -> None:
        """`guard` refuses a remove while an instance of the version is live."""
        self.settings = settings
        self.paths = paths
        self.guard = guard
        self.detect_gpu = detect_gpu
        """The NVIDIA driver probe (`gpu_detect.detect_driver` unless a test gives one)."""
        self._installing: set[str] = set()

    @cached_property
    def installer(self) -> Installer:
        """Built on first use: listing, `default` and `remove` never import the installer."""
        from comfy_tui.services.installer import Installer

        return Installer(self.settings, self.paths, detect_gpu=self._detect)

    def _detect(self) -> DriverInfo | None:
        if self.detect_gpu is None:
            from comfy_tui.services.gpu_detect import detect_driver

            return detect_driver()
        return self.detect_gpu()

    # --- reading ---------------------------------------------------------------------------
    async def disk(self, tags: Iterable[str]) -> DiskReport:
        """What each of `tags` holds alone and shares, and all of `versions/` (in a thread)."""
        return await to_thread(self.measure_disk, list(tags))

    def measure_disk(self, tags: Iterable[str]) -> DiskReport:
        """`disk`, blocking (a command without an event loop)."""
        from comfy_tui.services.disk_usage import measure_versions

        return measure_versions(self.paths.versions_dir(), list(tags))

    async def detected_torch(self) -> TorchChoice:
        """The build `--torch auto` would pick here, and why (the driver is asked in a thread)."""
        from comfy_tui.core.torch_backend import resolve_torch

        driver = await to_thread(self._detect)
        return resolve_torch(
            "auto",
            driver.driver_version if driver else None,
            driver.cuda_version if driver else None,
        )

    async def size_estimates(
        self,
        tags: Iterable[str],
        *,
        choices: InstallChoices | None = None,
        resolve: bool = False,
        limit: int | None = None,
    ) -> dict[str, SizeEstimate]:
        """What installing each of `tags` would download and take on disk, for the tags the
        mirror has and whose dependency set is known (`resolve`: resolve unknown sets with
        uv, index metadata only; at most `limit` of them). `choices`: the install dialog's
        answers, else the CLI's defaults (`--torch auto`, the settings' Python and torch
        index)."""
        from comfy_tui.core.torch_backend import resolve_torch
        from comfy_tui.services.size_estimate import InstallTarget, SizeEstimator

        torch = choices.torch if choices else "auto"
        driver = await to_thread(self._detect) if torch == "auto" else None
        backend = resolve_torch(
            torch,
            driver.driver_version if driver else None,
            driver.cuda_version if driver else None,
        ).backend
        python = (choices.python if choices else "") or self.settings.python
        torch_index = (choices.torch_index if choices else "") or self.settings.torch_index_url
        target = InstallTarget(backend, python, torch_index)
        estimator = SizeEstimator(self.settings, self.paths)
        return await estimator.for_tags(tags, target, resolve=resolve, limit=limit)

    async def install_choices(self) -> InstallChoices | None:
        """The install dialog's answers last confirmed on this box."""
        from comfy_tui.store.install_choices import load_choices

        return await to_thread(load_choices, self.paths)

    async def remember_install_choices(self, choices: InstallChoices) -> None:
        from comfy_tui.store.install_choices import save_choices

        await to_thread(save_choices, self.paths, choices)

    async def installed(self) -> list[VersionRecord]:
        """Every installed version, newest first."""
        return await to_thread(self.list_installed)

    def list_installed(self) -> list[VersionRecord]:
        """`installed`, blocking (a command without an event loop)."""
        by_tag = {r.tag: r for r in version_records.list_records(self.paths)}
        return [by_tag[tag] for tag in sort_newest_first(by_tag)]

    async def get(self, tag: str) -> VersionRecord | None:
        """The record of one installed version, or None."""
        return await to_thread(version_records.load_record, self.paths, validate_tag(tag))

    def installing(self) -> frozenset[str]:
        """Tags this process is installing right now."""
        return frozenset(self._installing)

    def install_log(self, tag: str) -> Path:
        """The log file of the last install of `tag` (every LogLine as "source: text")."""
        return self.paths.install_log(validate_tag(tag))

    # --- changing ----------------------------------------------------------------------------
    async def clean_stale(self) -> list[Path]:
        """Remove what crashed installs and removals left in `versions/` (call at start-up).

        Installs running in any process keep theirs. Returns the removed folders.
        """
        return await to_thread(staging.remove_stale, self.paths)

    def install(
        self,
        tag: str,
        torch: str = "auto",
        *,
        torch_index: str | None = None,
        python: str | None = None,
        ref: str | None = None,
        commit: str | None = None,
        force: bool = False,
    ) -> AsyncGenerator[Event, None]:
        """Install ComfyUI `tag` with the torch build `torch` (auto|cpu|cuXXX|rocmX.Y|none).

        Yields weighted `Progress` for the steps clone, venv, torch, requirements, smoke, the
        live git/uv/pip output as `LogLine`, and `Finished` when the record is written.
        Raises ValidationError (bad tag or torch value), InstallError (already installed, a
        step failed), LockBusyError (the tag is being installed elsewhere), NotFoundError (no
        such tag) or NetworkError (repository unreachable); nothing is left on disk then.
        Cancelling the consuming task kills the child process group and cleans up.
        The tag and torch value are checked at once (ValidationError before iterating).
        `torch_index` (a URL or "sources") and `python` override the settings for this one.
        `ref` (a branch, tag or commit, at `commit`) is installed under the name `tag`
        (services/lifecycle: `install REF --name NAME`). `force`: go on when the disk looks
        too small (the free-space check otherwise refuses with both numbers).
        """
        tag, torch = self.installer.check(tag, torch)
        if torch_index is not None:
            torch_index = validate_torch_index(torch_index)
        return self._install(tag, torch, torch_index, python, ref, commit, force)

    @forwards
    async def _install(
        self,
        tag: str,
        torch: str,
        torch_index: str | None,
        python: str | None,
        ref: str | None = None,
        commit: str | None = None,
        force: bool = False,
    ) -> AsyncGenerator[Step, None]:
        if tag in self._installing:
            raise LockBusyError(f"{tag} is already being installed")
        self._installing.add(tag)
        try:
            install = self.installer.install(
                tag,
                torch,
                torch_index=torch_index,
                python=python,
                ref=ref,
                commit=commit,
                force=force,
            )
            yield install
        finally:
            self._installing.discard(tag)

    async def adopt(
        self, path: Path, *, name: str | None = None, venv: Path | None = None
    ) -> VersionRecord:
        """Make an existing ComfyUI folder a version, left in place (services/adopt.py)."""
        from comfy_tui.services.adopt import adopt

        return await adopt(self.paths, path, name=name, venv=venv)

    async def check_remove(self, tag: str) -> None:
        """Refuse (VersionInUseError, one line naming the instance) to remove a version with
        a live instance: front ends call this before they ask "are you sure?"."""
        tag = validate_tag(tag)
        await self.guard.check(tag, f"remove {tag}")

    async def remove(self, tag: str) -> None:
        """Delete an installed version (record first, then its folder); an adopted one is
        only forgotten (its record goes, its folder stays as it was).

        Raises NotFoundError when it is not installed, VersionInUseError while an instance of
        it is live (checked under the version lock, so no launch slips in), LockBusyError
        while it is being installed.
        """
        tag = validate_tag(tag)
        busy = f"{tag} is being installed, launched or removed right now"
        async with self.guard.changing(tag, f"remove {tag}", busy=busy):
            await to_thread(self._remove_locked, tag)

    def _remove_locked(self, tag: str) -> None:
        final = self.paths.version_dir(tag)
        record = version_records.load_record(self.paths, tag)
        if record is None and not final.exists():
            raise NotFoundError(f"{tag} is not installed")
        if record is not None and record.adopted:  # not ours: forget it, touch nothing
            version_records.delete_record(self.paths, tag)
            log.info("forgot the adopted %s (%s is left as it was)", tag, record.path)
            return
        version_records.delete_record(self.paths, tag)  # not installed from here on
        kept = trashbin.put_version_aside(self.paths, tag, final, time.time())
        if kept is not None:
            log.info("%s: %s put in the trash as %s", tag, ", ".join(kept.parts), kept.id)
        trashbin.prune(self.paths, self.settings.trash_keep_days, time.time())
        if final.exists():
            gone = staging.new_removing_dir(self.paths, tag)
            final.rename(gone)
            staging.remove_tree(gone)
        log.info("removed %s", tag)

    async def get_default(self) -> str | None:
        """The default version's tag, or None."""
        return await to_thread(self.read_default)

    def read_default(self) -> str | None:
        """`get_default`, blocking (a command without an event loop)."""
        return version_records.get_default(self.paths)

    async def set_default(self, tag: str | None) -> None:
        """Make an installed version the default (None clears it); NotFoundError otherwise."""
        await to_thread(self.write_default, tag)

    def write_default(self, tag: str | None) -> None:
        """`set_default`, blocking (a command without an event loop)."""
        if tag is not None:
            tag = validate_tag(tag)
            if version_records.load_record(self.paths, tag) is None:
                raise NotFoundError(f"{tag} is not installed")
        version_records.set_default(self.paths, tag)

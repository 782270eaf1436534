"""One ComfyUI install, start to finish: never a half-installed version marked as done.

Order: validate → take the tag's install lock (refused at once when any process holds it) →
remove stale staging dirs → clone (mirror, then a checkout of the tag into
`versions/.staging-<tag>-<hex>/`) → venv → torch family (resolved from one source, then
installed; its build asked of torch itself) → requirements.txt (the torch family pinned by a
constraints file, rewritten from what is installed) → byte code (services/bytecode.py) → smoke
test (`main.py --help` for the accepted flags, then `--quick-test-for-ci --cpu` when the
version has it and no installed version with the same packages passed it) →
rename to `versions/<tag>/` → write the record, last. Each step is a phase of
`services/install_phases.py: InstallRun`, named like the progress steps. Any failure or
cancellation kills the running child's process group and deletes the staging dir (or the
renamed dir whose record was not written); no record is left behind. Every LogLine also goes
to `logs/install-<tag>.log`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncGenerator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from comfy_tui.core import install_plan as plan
from comfy_tui.core.install_progress import STEPS
from comfy_tui.core.torch_backend import TorchChoice, resolve_torch, validate_torch
from comfy_tui.core.units import format_duration
from comfy_tui.errors import ComfyTuiError, InstallError
from comfy_tui.events import Finished, LogLine, Progress, Step, forwards
from comfy_tui.paths import DataPaths
from comfy_tui.services import staging
from comfy_tui.services.disk_usage import (
    free_bytes,
)
from comfy_tui.services.envs import EnvBuilder, child_env, find_uv
from comfy_tui.services.flock import AsyncFileLock
from comfy_tui.services.git import GitMirror
from comfy_tui.services.gpu_detect import DriverInfo
from comfy_tui.services.install_phases import CONSTRAINTS_NAME, InstallOptions, InstallRun, note
from comfy_tui.services.torch_source import (
    Probe,
    probe_index,
)
from comfy_tui.settings import Settings
from comfy_tui.store import version_records
from comfy_tui.store.version_records import VersionRecord
from comfy_tui.validate import validate_tag

log = logging.getLogger(__name__)

__all__ = ["CONSTRAINTS_NAME", "Installer"]


class Installer:
    """Runs installs for one data dir. `detect_gpu` and `now` are injectable for tests."""

    def __init__(
        self,
        settings: Settings,
        paths: DataPaths,
        *,
        detect_gpu: Callable[[], DriverInfo | None],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        uv_bin: Callable[[], str | None] = find_uv,
        probe_index: Probe = probe_index,
        free_space: Callable[[Path], int] = free_bytes,
    ) -> None:
        self.settings = settings
        self.paths = paths
        self.detect_gpu = detect_gpu
        self.now = now
        self.uv_bin = uv_bin
        self.probe_index = probe_index
        self.free_space = free_space

    def check(self, tag: str, torch: str) -> tuple[str, str]:
        """Validate the request before anything touches the disk (ValidationError)."""
        return validate_tag(tag), validate_torch(torch)

    @forwards
    async def install(
        self,
        tag: str,
        torch: str = "auto",
        *,
        torch_index: str | None = None,
        python: str | None = None,
        ref: str | None = None,
        commit: str | None = None,
        force: bool = False,
    ) -> AsyncGenerator[Step, None]:
        """Install `tag`; `torch_index` and `python` override the settings for this install.
        `force`: go on when the free-space check says the disk is too small.
        `ref` (a branch, tag or commit) is checked out instead of the tag `tag`, which is then
        only the version's name, at `commit` when given (services/lifecycle/refmirror.py)."""
        tag, torch = self.check(tag, torch)
        options = InstallOptions(torch_index, python or self.settings.python, ref, commit, force)
        if await asyncio.to_thread(version_records.load_record, self.paths, tag):
            raise InstallError(
                f"{tag} is already installed (remove it first: comfy-tui remove {tag})"
            )
        lock = AsyncFileLock(
            self.paths.install_lock(tag), timeout=0, busy=f"{tag} is already being installed"
        )
        async with lock:
            with self.paths.install_log(tag).open("w", encoding="utf-8") as log_file:
                yield self._locked(tag, torch, options, log_file)

    @forwards
    async def _locked(
        self, tag: str, torch: str, options: InstallOptions, log_file: TextIO
    ) -> AsyncGenerator[Step, None]:
        paths = self.paths
        for stale in await asyncio.to_thread(staging.remove_stale, paths, tag):
            yield note(log_file, f"removed the stale {stale.name} of an earlier run")
        final = paths.version_dir(tag)
        if await asyncio.to_thread(version_records.load_record, paths, tag):
            raise InstallError(
                f"{tag} is already installed (remove it first: comfy-tui remove {tag})"
            )
        await asyncio.to_thread(staging.remove_tree, final)  # a folder without record is debris
        work = await asyncio.to_thread(staging.new_staging_dir, paths, tag)
        done: list[VersionRecord] = []
        try:
            yield self._steps(tag, torch, options, work, final, log_file, done)
        except ComfyTuiError as exc:
            note(log_file, f"failed: {exc}")
            raise
        except (asyncio.CancelledError, GeneratorExit):
            note(log_file, "cancelled")
            raise
        except Exception as exc:
            note(log_file, f"failed: {exc!r}")
            raise
        finally:
            if not done:
                log.info("install of %s did not finish; cleaning up", tag)
                await _cleanup(work, final)
        record = done[0]
        total = sum(record.step_seconds.values())
        log.info("installed %s in %.1f s", tag, total)
        note(log_file, f"installed {tag} in {format_duration(total, precision=1)}")
        yield Progress("smoke", 1.0, detail="installed")
        yield Finished(
            f"{tag} installed in {format_duration(total, precision=1)}"
            f" ({record.torch_backend}, {record.installer})"
        )

    def _envs(self, log_file: TextIO, python: str) -> tuple[EnvBuilder, LogLine | None]:
        s, paths = self.settings, self.paths
        installer, uv, said = s.installer, None, None
        if installer == "uv":
            uv = self.uv_bin()
            if uv is None:
                installer = "pip"
                said = note(log_file, "uv was not found; installing with pip instead")
        sources = plan.Sources(s.index_url, s.extra_index_urls, s.find_links)
        env = child_env(os.environ, uv_cache=paths.uv_cache(), pip_cache=paths.pip_cache())
        builder = EnvBuilder(
            installer, python, sources, paths.uv_cache(), paths.pip_cache(), env, uv
        )
        return builder, said

    @forwards
    async def _steps(
        self,
        tag: str,
        torch: str,
        options: InstallOptions,
        work: Path,
        final: Path,
        log_file: TextIO,
        done: list[VersionRecord],
    ) -> AsyncGenerator[Step, None]:
        """The phases in order (services/install_phases.py), each timed under its step name;
        appends the record to `done` once it is written (and not before)."""
        try:
            records = await asyncio.to_thread(version_records.list_records, self.paths)
        except ComfyTuiError as exc:  # a damaged record: reuse nothing, install anyway
            log.warning("not reusing other versions: %s", exc)
            records = []
        envs, envs_note = self._envs(log_file, options.python)
        run = InstallRun(
            settings=self.settings,
            paths=self.paths,
            tag=tag,
            options=options,
            work=work,
            final=final,
            log_file=log_file,
            others=[r for r in records if r.tag != tag],
            mirror=self._mirror(options.ref, options.commit),
            choice=await self._choose_torch(torch),
            envs=envs,
            envs_note=envs_note,
            free_space=self.free_space,
            probe_index=self.probe_index,
            uv_bin=self.uv_bin,
            now=self.now,
        )
        for name, phase in run.phases():
            started = time.monotonic()
            yield phase()
            if name in STEPS:
                run.seconds[name] = time.monotonic() - started
        assert run.record is not None  # the record phase wrote it
        done.append(run.record)

    def _mirror(self, ref: str | None, commit: str | None) -> GitMirror:
        """The shared mirror; for a ref, one that checks out that ref (at `commit`)."""
        if ref is None:
            return GitMirror(self.settings.comfyui_repo, self.paths.comfyui_mirror())
        from comfy_tui.services.lifecycle.refmirror import RefMirror

        return RefMirror(self.settings.comfyui_repo, self.paths.comfyui_mirror(), ref, pin=commit)

    async def _choose_torch(self, torch: str) -> TorchChoice:
        driver: DriverInfo | None = None
        if torch == "auto":
            driver = await asyncio.to_thread(self.detect_gpu)
        return resolve_torch(
            torch,
            driver.driver_version if driver else None,
            driver.cuda_version if driver else None,
        )


async def _cleanup(work: Path, final: Path) -> None:
    """Remove what a failed or cancelled install left; survives a second cancellation."""
    for path in (work, final):
        try:
            await asyncio.to_thread(staging.remove_tree, path)
        except asyncio.CancelledError:
            staging.remove_tree(path)
            raise
        except OSError as exc:
            log.warning("could not remove %s: %s", path, exc)

"""One ComfyUI install, start to finish: never a half-installed version marked as done.

Order: validate → take the tag's install lock (refused at once when any process holds it) →
remove stale staging dirs → clone (mirror, then a checkout of the tag into
`versions/.staging-<tag>-<hex>/`) → venv → torch family (resolved from one source, then
installed; its build asked of torch itself) → requirements.txt (the torch family pinned by a
constraints file, rewritten from what is installed) → byte code (services/bytecode.py) → smoke
test (`main.py --help` for the accepted flags, then `--quick-test-for-ci --cpu` when the
version has it and no installed version with the same packages passed it) →
rename to `versions/<tag>/` → write the record, last. Any failure or cancellation kills the
running child's process group and deletes the staging dir (or the renamed dir whose record was
not written); no record is left behind. Every LogLine also goes to `logs/install-<tag>.log`.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from comfy_tui.core import install_plan as plan
from comfy_tui.core.install_progress import (
    overall_fraction,
    parse_comfyui_version,
)
from comfy_tui.core.torch_backend import TorchChoice, resolve_torch, validate_torch
from comfy_tui.core.torch_build import TorchBuild, check_plan
from comfy_tui.core.units import format_bytes
from comfy_tui.core.uv_output import missing_upload_date
from comfy_tui.errors import ComfyTuiError, InstallError
from comfy_tui.events import Event, Finished, LogLine, Progress
from comfy_tui.paths import DataPaths
from comfy_tui.services import staging
from comfy_tui.services.bytecode import prepare_bytecode
from comfy_tui.services.disk_usage import (
    deps_key,
    estimate_need,
    free_bytes,
    own_bytes,
    remember_growth,
)
from comfy_tui.services.envs import EnvBuilder, ToolFailed, child_env, find_uv
from comfy_tui.services.flock import AsyncFileLock
from comfy_tui.services.git import GitMirror
from comfy_tui.services.gpu_detect import DriverInfo
from comfy_tui.services.heartbeat import with_ticks
from comfy_tui.services.reuse import find_twins
from comfy_tui.services.size_estimate import InstallTarget, SizeEstimator
from comfy_tui.services.smoke import SmokeTest
from comfy_tui.services.torch_source import (
    Probe,
    choose_torch_source,
    probe_index,
    probe_torch_build,
)
from comfy_tui.settings import Settings
from comfy_tui.store import version_records
from comfy_tui.store.version_records import VersionRecord
from comfy_tui.validate import validate_tag

log = logging.getLogger(__name__)

__all__ = ["Installer"]

CONSTRAINTS_NAME = "comfy-tui-constraints.txt"


@dataclass(frozen=True)
class _Options:
    torch_index: str | None
    python: str
    ref: str | None = None  # a branch, tag or commit to install under the name `tag`
    commit: str | None = None  # the commit `ref` was resolved to (checked out as is)
    force: bool = False  # install even when the disk looks too small


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
    ) -> AsyncGenerator[Event, None]:
        """Install `tag`; `torch_index` and `python` override the settings for this install.
        `force`: go on when the free-space check says the disk is too small.
        `ref` (a branch, tag or commit) is checked out instead of the tag `tag`, which is then
        only the version's name, at `commit` when given (services/lifecycle/refmirror.py)."""
        tag, torch = self.check(tag, torch)
        options = _Options(torch_index, python or self.settings.python, ref, commit, force)
        if await asyncio.to_thread(version_records.load_record, self.paths, tag):
            raise InstallError(
                f"{tag} is already installed (remove it first: comfy-tui remove {tag})"
            )
        lock = AsyncFileLock(
            self.paths.install_lock(tag), timeout=0, busy=f"{tag} is already being installed"
        )
        async with lock:
            with self.paths.install_log(tag).open("w", encoding="utf-8") as log_file:
                async with aclosing(self._locked(tag, torch, options, log_file)) as stream:
                    async for event in stream:
                        yield event

    async def _locked(
        self, tag: str, torch: str, options: _Options, log_file: TextIO
    ) -> AsyncGenerator[Event, None]:
        paths = self.paths
        for stale in await asyncio.to_thread(staging.remove_stale, paths, tag):
            yield self._note(log_file, f"removed the stale {stale.name} of an earlier run")
        final = paths.version_dir(tag)
        if await asyncio.to_thread(version_records.load_record, paths, tag):
            raise InstallError(
                f"{tag} is already installed (remove it first: comfy-tui remove {tag})"
            )
        await asyncio.to_thread(staging.remove_tree, final)  # a folder without record is debris
        work = await asyncio.to_thread(staging.new_staging_dir, paths, tag)
        done: list[VersionRecord] = []
        try:
            async with aclosing(
                self._steps(tag, torch, options, work, final, log_file, done)
            ) as stream:
                async for event in stream:
                    yield event
        except ComfyTuiError as exc:
            self._note(log_file, f"failed: {exc}")
            raise
        except (asyncio.CancelledError, GeneratorExit):
            self._note(log_file, "cancelled")
            raise
        except Exception as exc:
            self._note(log_file, f"failed: {exc!r}")
            raise
        finally:
            if not done:
                log.info("install of %s did not finish; cleaning up", tag)
                await _cleanup(work, final)
        record = done[0]
        total = sum(record.step_seconds.values())
        log.info("installed %s in %.1f s", tag, total)
        self._note(log_file, f"installed {tag} in {total:.1f} s")
        yield Progress("smoke", 1.0, detail="installed")
        yield Finished(
            f"{tag} installed in {total:.1f} s ({record.torch_backend}, {record.installer})"
        )

    def _note(self, log_file: TextIO, text: str, source: str = "comfy-tui") -> LogLine:
        log_file.write(f"{source}: {text}\n")
        return LogLine(text, source)

    async def _relay(
        self, events: AsyncGenerator[Event, None], step: str, log_file: TextIO, lo: float, hi: float
    ) -> AsyncGenerator[Event, None]:
        """Pass a sub-job's events on: LogLines logged, local Progress mapped to the whole.

        While the sub-job is quiet, a Progress every `TICK_S` says what it last did and for
        how long, and creeps towards (never reaching) the end of its share.
        """
        within, detail, last = lo, "", ""
        started = time.monotonic()
        async with aclosing(with_ticks(events)) as stream:
            async for event in stream:
                if event is None:
                    within += (hi - within) * 0.02
                    doing = f"{detail} · {last}" if detail and last else detail or last
                    shown = f"{doing[:70]} ({time.monotonic() - started:.0f} s)"
                    yield Progress(step, overall_fraction(step, within), detail=shown)
                elif isinstance(event, Progress):
                    within = max(within, lo + (hi - lo) * event.fraction)
                    detail = event.detail
                    yield Progress(step, overall_fraction(step, within), detail=event.detail)
                elif isinstance(event, LogLine):
                    log_file.write(f"{event.source}: {event.text}\n")
                    last = f"running {event.source}" if event.text.startswith("$ ") else event.text
                    yield event
                else:
                    yield event

    def _envs(self, log_file: TextIO, python: str) -> tuple[EnvBuilder, LogLine | None]:
        s, paths = self.settings, self.paths
        installer, uv, note = s.installer, None, None
        if installer == "uv":
            uv = self.uv_bin()
            if uv is None:
                installer = "pip"
                note = self._note(log_file, "uv was not found; installing with pip instead")
        sources = plan.Sources(s.index_url, s.extra_index_urls, s.find_links)
        env = child_env(os.environ, uv_cache=paths.uv_cache(), pip_cache=paths.pip_cache())
        builder = EnvBuilder(
            installer, python, sources, paths.uv_cache(), paths.pip_cache(), env, uv
        )
        return builder, note

    async def _steps(
        self,
        tag: str,
        torch: str,
        options: _Options,
        work: Path,
        final: Path,
        log_file: TextIO,
        done: list[VersionRecord],
    ) -> AsyncGenerator[Event, None]:
        """Every step; appends the record to `done` once it is written (and not before)."""
        seconds: dict[str, float] = {}
        try:
            records = await asyncio.to_thread(version_records.list_records, self.paths)
        except ComfyTuiError as exc:  # a damaged record: reuse nothing, install anyway
            log.warning("not reusing other versions: %s", exc)
            records = []
        others = [r for r in records if r.tag != tag]
        mirror = self._mirror(options.ref, options.commit)
        relay = self._relay

        # clone
        started = time.monotonic()
        yield Progress("clone", overall_fraction("clone", 0), detail=f"getting {tag}")
        async with aclosing(relay(mirror.ensure_tag(tag), "clone", log_file, 0.0, 0.7)) as stream:
            async for event in stream:
                yield event
        async with aclosing(
            relay(mirror.checkout(tag, work), "clone", log_file, 0.7, 1.0)
        ) as stream:
            async for event in stream:
                yield event
        seconds["clone"] = time.monotonic() - started

        # free space, against what an install of this dependency set takes
        choice = await self._choose_torch(torch)
        requirements = work / "requirements.txt"
        wanted = await asyncio.to_thread(_read_text, requirements)
        torch_source = options.torch_index or self.settings.torch_index_url
        key = deps_key(wanted, choice.backend, options.python, torch_source)
        twin_dir = next((Path(r.path) for r in others if r.deps_key == key), None)
        free_before = await asyncio.to_thread(self.free_space, self.paths.versions_dir())
        need, basis = await asyncio.to_thread(estimate_need, self.paths, key, choice.backend, None)
        if free_before < need and twin_dir is not None:  # tight: what the twin holds alone
            twin_own = await asyncio.to_thread(own_bytes, twin_dir)
            need, basis = estimate_need(self.paths, key, choice.backend, twin_own)
        if free_before < need and twin_dir is None and basis.startswith("a first"):
            estimator = SizeEstimator(
                self.settings, self.paths, uv_bin=self.uv_bin, probe=self.probe_index
            )
            target = InstallTarget(choice.backend, options.python, torch_source)
            yield Progress("clone", overall_fraction("clone", 1), detail="sizing the packages")
            resolved = await estimator.resolve(wanted, target)  # the guess is tight: measure
            if resolved is not None:
                need, basis = resolved.disk_bytes, resolved.basis
        if free_before < need:
            short = (
                f"not enough free disk for {tag}: it needs about {format_bytes(need)} (from "
                f"{basis}), {format_bytes(free_before)} is free under {self.paths.versions_dir()}"
            )
            if not options.force:
                raise InstallError(f"{short} (--force tries anyway)")
            yield self._note(log_file, f"{short}; installing anyway (--force)")

        # venv
        started = time.monotonic()
        envs, note = self._envs(log_file, options.python)
        if note:
            yield note
        venv = work / ".venv"
        yield Progress(
            "venv", overall_fraction("venv", 0), detail=f"creating the venv ({envs.installer})"
        )
        async with aclosing(relay(envs.create(venv), "venv", log_file, 0, 1)) as stream:
            async for event in stream:
                yield event
        seconds["venv"] = time.monotonic() - started

        # torch
        started = time.monotonic()
        yield self._note(log_file, f"torch build: {choice.backend} ({choice.reason})")
        build: TorchBuild | None = None
        torch_url: str | None = None
        if choice.backend != "none":
            yield Progress("torch", overall_fraction("torch", 0), detail=f"torch {choice.backend}")
            source = await choose_torch_source(
                choice.backend,
                envs.sources,
                override=options.torch_index or self.settings.torch_index_url,
                pytorch_index=self.settings.pytorch_index,
                probe=self.probe_index,
            )
            yield self._note(log_file, source.note)
            torch_url = source.url
            planned: dict[str, str] = {}
            if twin_dir is None:  # a new dependency set: refuse a mixed family before download
                resolve = envs.resolve_torch(venv, choice.backend, source.url, planned)
                async with aclosing(relay(resolve, "torch", log_file, 0, 0.05)) as stream:
                    async for event in stream:
                        yield event
            if planned:
                family = ", ".join(f"{n} {planned[n]}" for n in plan.TORCH_FAMILY if n in planned)
                yield self._note(log_file, f"resolved {family}: one source, one build")
            install = envs.install_torch(venv, choice.backend, source.url)
            async with aclosing(relay(install, "torch", log_file, 0.05, 0.9)) as stream:
                async for event in stream:
                    yield event
            installed = await envs.describe(venv)
            check_plan(installed, choice.backend)
            yield Progress("torch", overall_fraction("torch", 0.9), detail="checking the build")
            twins = await asyncio.to_thread(find_twins, venv, others)
            if twins.torch is not None:
                build = TorchBuild.from_kind(installed["torch"], twins.torch.torch_build)
                yield self._note(
                    log_file, f"the same torch files as {twins.torch.tag}: {build.kind} build"
                )
            else:
                build = await probe_torch_build(envs.venv_python(venv), envs.env)
            remark = build.check(choice.backend)
            yield self._note(log_file, build.describe() + (f"; {remark}" if remark else ""))
            await asyncio.to_thread(self._pin_torch, venv, await envs.describe(venv))
        seconds["torch"] = time.monotonic() - started

        # requirements
        started = time.monotonic()
        cutoff = None
        if envs.installer == "uv":
            cutoff = plan.exclude_newer_date(
                await mirror.tag_date(tag), self.now(), self.settings.exclude_newer_after_days
            )
        extra = plan.known_missing(tag) if cutoff is None else ()
        if cutoff is not None:
            yield self._note(log_file, f"{tag} is old: resolving as of {cutoff:%Y-%m-%d}")
        if extra:
            yield self._note(log_file, f"adding what {tag} forgot to declare: {', '.join(extra)}")
        yield Progress(
            "requirements", overall_fraction("requirements", 0), detail="requirements.txt"
        )
        resolution = f"as of {cutoff:%Y-%m-%d}" if cutoff else ""
        if requirements.is_file():
            constraints = venv / CONSTRAINTS_NAME
            pins = constraints if constraints.is_file() else None
            exempt: list[str] = []
            for attempt in range(3):
                events = envs.install_requirements(
                    venv,
                    requirements,
                    pins,
                    extra=extra,
                    exclude_newer=cutoff,
                    exempt=exempt,
                )
                try:
                    async with aclosing(relay(events, "requirements", log_file, 0, 1)) as stream:
                        async for event in stream:
                            yield event
                    break
                except ToolFailed as exc:
                    undated = missing_upload_date(exc.lines)
                    if cutoff is None or not undated or attempt == 2:
                        raise
                    if attempt == 0:
                        exempt = undated
                        resolution = f"as of {cutoff:%Y-%m-%d}, except {', '.join(undated)}"
                        text = (
                            f"the index gives no upload time for {', '.join(undated)}: "
                            "exempting them from the date cut-off and retrying"
                        )
                    else:
                        cutoff, extra = None, plan.known_missing(tag)
                        resolution = "no date cut-off (the index gives no upload times)"
                        text = "more packages without upload time: retrying without the cut-off"
                    yield self._note(log_file, text)
                    yield Progress("requirements", overall_fraction("requirements", 0), detail=text)
        else:
            yield self._note(log_file, f"{tag} has no requirements.txt; skipping that step")
        await asyncio.to_thread(self._pin_torch, venv, await envs.describe(venv))
        seconds["requirements"] = time.monotonic() - started

        # byte code (the size walk runs meanwhile, in a thread)
        sizing = asyncio.ensure_future(asyncio.to_thread(staging.du_bytes, work))
        sizing.add_done_callback(_retrieve)  # a failed install never awaits it
        started = time.monotonic()
        yield Progress("compile", overall_fraction("compile", 0), detail="byte code")
        bytecode = prepare_bytecode(
            envs.venv_python(venv), venv, work, [Path(r.path) for r in others], envs.env
        )
        async with aclosing(relay(bytecode, "compile", log_file, 0, 1)) as stream:
            async for event in stream:
                yield event
        seconds["compile"] = time.monotonic() - started

        # smoke
        started = time.monotonic()
        twins = await asyncio.to_thread(find_twins, venv, others)
        smoke = SmokeTest(
            envs.venv_python(venv),
            work,
            envs.env,
            torch_build=build,
            tested_with=twins.packages.tag if twins.packages else None,
        )
        async with aclosing(relay(smoke.run(), "smoke", log_file, 0, 1)) as stream:
            async for event in stream:
                yield event
        flags = smoke.flags
        seconds["smoke"] = time.monotonic() - started

        # facts, move into place, record last
        facts = await envs.describe(venv)
        version_file = work / "comfyui_version.py"
        comfyui_version = (
            parse_comfyui_version(version_file.read_text(encoding="utf-8", errors="replace"))
            if version_file.is_file()
            else ""
        )
        commit = await mirror.commit_of(work)
        await asyncio.to_thread(_move_into_place, work, final, envs.installer)
        size = (await sizing)[0]
        record = VersionRecord(
            tag=tag,
            path=str(final),
            python=str(envs.venv_python(final / ".venv")),
            commit=commit,
            comfyui_version=comfyui_version,
            python_version=facts.get("python", ""),
            torch_version=facts.get("torch", ""),
            torch_backend=choice.backend,
            torch_index=plan.recordable_index(torch_url),
            torch_build=smoke.torch_build.kind if smoke.torch_build else "",
            smoke=smoke.result,
            resolution=resolution,
            deps_key=key,
            installer=envs.installer,
            installed_at=time.time(),
            size_bytes=size,
            step_seconds={k: round(v, 3) for k, v in seconds.items()},
            flags=flags,
            ref=options.ref or "",
        )
        await asyncio.to_thread(version_records.save_record, self.paths, record)
        done.append(record)
        free_after = await asyncio.to_thread(self.free_space, self.paths.versions_dir())
        await asyncio.to_thread(remember_growth, self.paths, key, free_before - free_after)

    def _mirror(self, ref: str | None, commit: str | None) -> GitMirror:
        """The shared mirror; for a ref, one that checks out that ref (at `commit`)."""
        if ref is None:
            return GitMirror(self.settings.comfyui_repo, self.paths.comfyui_mirror())
        from comfy_tui.services.lifecycle.refmirror import RefMirror

        return RefMirror(self.settings.comfyui_repo, self.paths.comfyui_mirror(), ref, pin=commit)

    @staticmethod
    def _pin_torch(venv: Path, installed: dict[str, str]) -> None:
        """Write the constraints file from what is installed (nothing when torch is not)."""
        if installed.get("torch"):
            text = plan.constraints_text(installed)
            (venv / CONSTRAINTS_NAME).write_text(text, encoding="utf-8")

    async def _choose_torch(self, torch: str) -> TorchChoice:
        driver: DriverInfo | None = None
        if torch == "auto":
            driver = await asyncio.to_thread(self.detect_gpu)
        return resolve_torch(
            torch,
            driver.driver_version if driver else None,
            driver.cuda_version if driver else None,
        )


def _retrieve(future: asyncio.Future[list[int]]) -> None:
    if not future.cancelled():
        future.exception()


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _move_into_place(work: Path, final: Path, installer: str) -> None:
    work.rename(final)
    if installer == "pip":
        staging.relink_scripts(final / ".venv", work / ".venv", final / ".venv")


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

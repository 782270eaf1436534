"""The phases of one install, in order, each an event stream of its own (services/installer.py).

`InstallRun.phases()` lists them: clone → disk (free space against what this dependency set
takes) → venv → torch → requirements → compile (byte code) → smoke → record. The names of the
timed ones are the progress steps (`core/install_progress.py: STEPS`), so what the progress
shows, the `step_seconds` of the record and this file follow one list. A phase keeps what later
ones need on the run (the torch choice, the dependency key, the torch build, ...).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO

from comfy_tui.core import install_plan as plan
from comfy_tui.core.install_progress import overall_fraction, parse_comfyui_version
from comfy_tui.core.torch_backend import TorchChoice
from comfy_tui.core.torch_build import TorchBuild, check_plan
from comfy_tui.core.units import format_bytes, format_duration
from comfy_tui.core.uv_output import missing_upload_date
from comfy_tui.errors import InstallError
from comfy_tui.events import Event, LogLine, Progress, Step, forwards
from comfy_tui.paths import DataPaths
from comfy_tui.services import staging
from comfy_tui.services.bytecode import prepare_bytecode
from comfy_tui.services.disk_usage import deps_key, estimate_need, own_bytes, remember_growth
from comfy_tui.services.envs import EnvBuilder, ToolFailed
from comfy_tui.services.git import GitMirror
from comfy_tui.services.heartbeat import with_ticks
from comfy_tui.services.reuse import find_twins
from comfy_tui.services.size_estimate import InstallTarget, SizeEstimator
from comfy_tui.services.smoke import SmokeTest
from comfy_tui.services.torch_source import Probe, choose_torch_source, probe_torch_build
from comfy_tui.settings import Settings
from comfy_tui.store import version_records
from comfy_tui.store.version_records import VersionRecord

log = logging.getLogger(__name__)

__all__ = ["CONSTRAINTS_NAME", "InstallOptions", "InstallRun", "note", "pin_torch"]

CONSTRAINTS_NAME = "comfy-tui-constraints.txt"


@dataclass(frozen=True)
class InstallOptions:
    torch_index: str | None
    python: str
    ref: str | None = None  # a branch, tag or commit to install under the name `tag`
    commit: str | None = None  # the commit `ref` was resolved to (checked out as is)
    force: bool = False  # install even when the disk looks too small


def note(log_file: TextIO, text: str, source: str = "comfy-tui") -> LogLine:
    """A line for the user that also goes to the install log."""
    log_file.write(f"{source}: {text}\n")
    return LogLine(text, source)


def pin_torch(venv: Path, installed: dict[str, str]) -> None:
    """Write the constraints file from what is installed (nothing when torch is not)."""
    if installed.get("torch"):
        text = plan.constraints_text(installed)
        (venv / CONSTRAINTS_NAME).write_text(text, encoding="utf-8")


async def relay(
    events: AsyncGenerator[Event, None], step: str, log_file: TextIO, lo: float, hi: float
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
                shown = f"{doing[:70]} ({format_duration(time.monotonic() - started)})"
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


Phase = Callable[[], AsyncGenerator[Event, None]]


@dataclass
class InstallRun:
    """One install going through its phases; each phase keeps what the later ones need."""

    settings: Settings
    paths: DataPaths
    tag: str
    options: InstallOptions
    work: Path
    final: Path
    log_file: TextIO
    others: list[VersionRecord]
    mirror: GitMirror
    choice: TorchChoice
    envs: EnvBuilder
    envs_note: LogLine | None
    free_space: Callable[[Path], int]
    probe_index: Probe
    uv_bin: Callable[[], str | None]
    now: Callable[[], datetime]
    seconds: dict[str, float] = field(default_factory=dict)
    key: str = ""
    twin_dir: Path | None = None
    free_before: int = 0
    build: TorchBuild | None = None
    torch_url: str | None = None
    resolution: str = ""
    flags: tuple[str, ...] = ()
    smoke_build: TorchBuild | None = None
    smoke_result: str = ""
    sizing: asyncio.Future[list[int]] | None = None
    record: VersionRecord | None = None

    @property
    def venv(self) -> Path:
        return self.work / ".venv"

    @property
    def requirements(self) -> Path:
        return self.work / "requirements.txt"

    def phases(self) -> tuple[tuple[str, Phase], ...]:
        """(name, phase) in order; the names that are progress steps are timed."""
        return (
            ("clone", self.clone),
            ("disk", self.check_disk),
            ("venv", self.make_venv),
            ("torch", self.install_torch),
            ("requirements", self.install_requirements),
            ("compile", self.compile_bytecode),
            ("smoke", self.smoke),
            ("record", self.write_record),
        )

    @forwards
    async def clone(self) -> AsyncGenerator[Step, None]:
        """The tag from the shared mirror (fetched when it lacks it), checked out into staging."""
        tag, log_file = self.tag, self.log_file
        yield Progress("clone", overall_fraction("clone", 0), detail=f"getting {tag}")
        yield relay(self.mirror.ensure_tag(tag), "clone", log_file, 0, 0.7)
        checkout = relay(self.mirror.checkout(tag, self.work), "clone", log_file, 0.7, 1.0)
        yield checkout

    async def check_disk(self) -> AsyncGenerator[Event, None]:
        """Free space against what an install of this dependency set takes; refused (unless
        forced) when short."""
        choice, options, paths = self.choice, self.options, self.paths
        wanted = await asyncio.to_thread(_read_text, self.requirements)
        torch_source = options.torch_index or self.settings.torch_index_url
        self.key = key = deps_key(wanted, choice.backend, options.python, torch_source)
        self.twin_dir = next((Path(r.path) for r in self.others if r.deps_key == key), None)
        self.free_before = free = await asyncio.to_thread(self.free_space, paths.versions_dir())
        need, basis = await asyncio.to_thread(estimate_need, paths, key, choice.backend, None)
        if free < need and self.twin_dir is not None:  # tight: what the twin holds alone
            twin_own = await asyncio.to_thread(own_bytes, self.twin_dir)
            need, basis = estimate_need(paths, key, choice.backend, twin_own)
        if free < need and self.twin_dir is None and basis.startswith("a first"):
            estimator = SizeEstimator(
                self.settings, paths, uv_bin=self.uv_bin, probe=self.probe_index
            )
            target = InstallTarget(choice.backend, options.python, torch_source)
            yield Progress("clone", overall_fraction("clone", 1), detail="sizing the packages")
            resolved = await estimator.resolve(wanted, target)  # the guess is tight: measure
            if resolved is not None:
                need, basis = resolved.disk_bytes, resolved.basis
        if free < need:
            short = (
                f"not enough free disk for {self.tag}: it needs about {format_bytes(need)} (from "
                f"{basis}), {format_bytes(free)} is free under {paths.versions_dir()}"
            )
            if not options.force:
                raise InstallError(f"{short} (--force tries anyway)")
            yield note(self.log_file, f"{short}; installing anyway (--force)")

    @forwards
    async def make_venv(self) -> AsyncGenerator[Step, None]:
        envs = self.envs
        if self.envs_note:
            yield self.envs_note
        yield Progress(
            "venv", overall_fraction("venv", 0), detail=f"creating the venv ({envs.installer})"
        )
        yield relay(envs.create(self.venv), "venv", self.log_file, 0, 1)

    @forwards
    async def install_torch(self) -> AsyncGenerator[Step, None]:
        """The torch family from one source (a mixed family refused before any download), then
        its build asked of torch itself (or of an installed twin) and pinned."""
        choice, envs, venv, log_file = self.choice, self.envs, self.venv, self.log_file
        yield note(log_file, f"torch build: {choice.backend} ({choice.reason})")
        if choice.backend == "none":
            return
        yield Progress("torch", overall_fraction("torch", 0), detail=f"torch {choice.backend}")
        source = await choose_torch_source(
            choice.backend,
            envs.sources,
            override=self.options.torch_index or self.settings.torch_index_url,
            pytorch_index=self.settings.pytorch_index,
            probe=self.probe_index,
        )
        yield note(log_file, source.note)
        self.torch_url = source.url
        planned: dict[str, str] = {}
        if self.twin_dir is None:  # a new dependency set: refuse a mixed family before download
            resolve = envs.resolve_torch(venv, choice.backend, source.url, planned)
            yield relay(resolve, "torch", log_file, 0, 0.05)
        if planned:
            family = ", ".join(f"{n} {planned[n]}" for n in plan.TORCH_FAMILY if n in planned)
            yield note(log_file, f"resolved {family}: one source, one build")
        install = envs.install_torch(venv, choice.backend, source.url)
        yield relay(install, "torch", log_file, 0.05, 0.9)
        installed = await envs.describe(venv)
        check_plan(installed, choice.backend)
        yield Progress("torch", overall_fraction("torch", 0.9), detail="checking the build")
        twins = await asyncio.to_thread(find_twins, venv, self.others)
        if twins.torch is not None:
            build = TorchBuild.from_kind(installed["torch"], twins.torch.torch_build)
            yield note(log_file, f"the same torch files as {twins.torch.tag}: {build.kind} build")
        else:
            build = await probe_torch_build(envs.venv_python(venv), envs.env)
        self.build = build
        remark = build.check(choice.backend)
        yield note(log_file, build.describe() + (f"; {remark}" if remark else ""))
        await asyncio.to_thread(pin_torch, venv, await envs.describe(venv))

    @forwards
    async def install_requirements(self) -> AsyncGenerator[Step, None]:
        """requirements.txt with the torch family pinned; old tags resolve as of their date
        (undated packages exempted, then no cut-off, each a retry)."""
        tag, envs, venv, log_file = self.tag, self.envs, self.venv, self.log_file
        cutoff = None
        if envs.installer == "uv":
            cutoff = plan.exclude_newer_date(
                await self.mirror.tag_date(tag),
                self.now(),
                self.settings.exclude_newer_after_days,
            )
        extra = plan.known_missing(tag) if cutoff is None else ()
        if cutoff is not None:
            yield note(log_file, f"{tag} is old: resolving as of {cutoff:%Y-%m-%d}")
        if extra:
            yield note(log_file, f"adding what {tag} forgot to declare: {', '.join(extra)}")
        yield Progress(
            "requirements", overall_fraction("requirements", 0), detail="requirements.txt"
        )
        self.resolution = f"as of {cutoff:%Y-%m-%d}" if cutoff else ""
        if self.requirements.is_file():
            constraints = venv / CONSTRAINTS_NAME
            pins = constraints if constraints.is_file() else None
            exempt: list[str] = []
            for attempt in range(3):
                events = envs.install_requirements(
                    venv, self.requirements, pins, extra=extra, exclude_newer=cutoff, exempt=exempt
                )
                try:
                    yield relay(events, "requirements", log_file, 0, 1)
                    break
                except ToolFailed as exc:
                    undated = missing_upload_date(exc.lines)
                    if cutoff is None or not undated or attempt == 2:
                        raise
                    if attempt == 0:
                        exempt = undated
                        self.resolution = f"as of {cutoff:%Y-%m-%d}, except {', '.join(undated)}"
                        text = (
                            f"the index gives no upload time for {', '.join(undated)}: "
                            "exempting them from the date cut-off and retrying"
                        )
                    else:
                        cutoff, extra = None, plan.known_missing(tag)
                        self.resolution = "no date cut-off (the index gives no upload times)"
                        text = "more packages without upload time: retrying without the cut-off"
                    yield note(log_file, text)
                    yield Progress("requirements", overall_fraction("requirements", 0), detail=text)
        else:
            yield note(log_file, f"{tag} has no requirements.txt; skipping that step")
        await asyncio.to_thread(pin_torch, venv, await envs.describe(venv))

    @forwards
    async def compile_bytecode(self) -> AsyncGenerator[Step, None]:
        """Byte code (services/bytecode.py); the size walk runs meanwhile, in a thread."""
        self.sizing = asyncio.ensure_future(asyncio.to_thread(staging.du_bytes, self.work))
        self.sizing.add_done_callback(_retrieve)  # a failed install never awaits it
        yield Progress("compile", overall_fraction("compile", 0), detail="byte code")
        envs = self.envs
        others = [Path(r.path) for r in self.others]
        bytecode = prepare_bytecode(
            envs.venv_python(self.venv), self.venv, self.work, others, envs.env
        )
        yield relay(bytecode, "compile", self.log_file, 0, 1)

    @forwards
    async def smoke(self) -> AsyncGenerator[Step, None]:
        twins = await asyncio.to_thread(find_twins, self.venv, self.others)
        smoke = SmokeTest(
            self.envs.venv_python(self.venv),
            self.work,
            self.envs.env,
            torch_build=self.build,
            tested_with=twins.packages.tag if twins.packages else None,
        )
        yield relay(smoke.run(), "smoke", self.log_file, 0, 1)
        self.flags = smoke.flags
        self.smoke_build, self.smoke_result = smoke.torch_build, smoke.result

    async def write_record(self) -> AsyncGenerator[Event, None]:
        """Facts, the move into place, and the record, written last."""
        envs, work, final = self.envs, self.work, self.final
        facts = await envs.describe(self.venv)
        version_file = work / "comfyui_version.py"
        comfyui_version = (
            parse_comfyui_version(version_file.read_text(encoding="utf-8", errors="replace"))
            if version_file.is_file()
            else ""
        )
        commit = await self.mirror.commit_of(work)
        await asyncio.to_thread(_move_into_place, work, final, envs.installer)
        assert self.sizing is not None  # the compile phase started it
        size = (await self.sizing)[0]
        record = VersionRecord(
            tag=self.tag,
            path=str(final),
            python=str(envs.venv_python(final / ".venv")),
            commit=commit,
            comfyui_version=comfyui_version,
            python_version=facts.get("python", ""),
            torch_version=facts.get("torch", ""),
            torch_backend=self.choice.backend,
            torch_index=plan.recordable_index(self.torch_url),
            torch_build=self.smoke_build.kind if self.smoke_build else "",
            smoke=self.smoke_result,
            resolution=self.resolution,
            deps_key=self.key,
            installer=envs.installer,
            installed_at=time.time(),
            size_bytes=size,
            step_seconds={k: round(v, 3) for k, v in self.seconds.items()},
            flags=self.flags,
            ref=self.options.ref or "",
        )
        await asyncio.to_thread(version_records.save_record, self.paths, record)
        self.record = record
        free_after = await asyncio.to_thread(self.free_space, self.paths.versions_dir())
        await asyncio.to_thread(
            remember_growth, self.paths, self.key, self.free_before - free_after
        )
        yield note(self.log_file, f"recorded {self.tag} at {final}")


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

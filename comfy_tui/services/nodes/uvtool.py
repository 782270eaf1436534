"""uv on an installed version's venv: freeze, dry runs, installs and syncs, with our sources.

Every command uses the configured package sources (`index_url`, `extra_index_urls`,
`find_links`), the shared uv cache, the environment cleaned of the user's PIP_*/UV_* settings,
and the index the version's torch came from (`VersionRecord.torch_index`; never uv's
``--torch-backend``, which would reach PyTorch's own index): the torch family itself stays
pinned to what is installed by the version's constraints. Node
installs and their dry runs pass ``--no-build`` unless the user agreed to source builds;
syncs (snapshot restores) always do. Custom
nodes and snapshots always use uv (a dependency of comfy-tui), also for versions installed
with pip: uv works on any venv.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from pathlib import Path

from comfy_tui.core import install_plan as plan
from comfy_tui.core.node_plan import parse_freeze, source_build_names
from comfy_tui.errors import InstallError
from comfy_tui.events import Event
from comfy_tui.paths import DataPaths
from comfy_tui.services.envs import child_env, find_uv, run_tool, uv_error
from comfy_tui.services.proc import ChildProcess, run_capture
from comfy_tui.settings import Settings

__all__ = ["NO_BUILD", "DryRun", "VenvTool"]

NO_BUILD = "--no-build"
"""uv builds no source distribution: resolving and installing run no package's code."""


@dataclass(frozen=True)
class DryRun:
    """What `uv ... --dry-run` said: its exit status, every output line, its error line."""

    returncode: int
    lines: tuple[str, ...]
    reason: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


@dataclass(frozen=True)
class VenvTool:
    uv: str
    sources: plan.Sources
    cache: Path
    env: dict[str, str]

    @classmethod
    def from_settings(cls, settings: Settings, paths: DataPaths) -> VenvTool:
        uv = find_uv()
        if uv is None:
            raise InstallError(
                "uv was not found: custom nodes and snapshots need it (pip install uv)"
            )
        sources = plan.Sources(settings.index_url, settings.extra_index_urls, settings.find_links)
        env = child_env(os.environ, uv_cache=paths.uv_cache(), pip_cache=paths.pip_cache())
        return cls(uv, sources, paths.uv_cache(), env)

    async def freeze(self, python: Path) -> tuple[str, ...]:
        """The venv's exact package list."""
        run = await run_capture(plan.uv_freeze_argv(self.uv, python), env=self.env, timeout=120)
        if run.returncode != 0:
            reason = run.stderr.strip().splitlines()[-1:] or [f"exit {run.returncode}"]
            raise InstallError(f"cannot list the packages of {python}: {reason[0]}")
        return parse_freeze(run.stdout)

    def _install_argv(
        self,
        python: Path,
        requirements: Path,
        constraints: Path | None,
        torch_index: str,
        *,
        dry_run: bool,
        no_build: bool,
    ) -> list[str]:
        argv = plan.uv_install_argv(
            self.uv,
            python,
            self.cache,
            self.sources,
            requirements=requirements,
            constraints=constraints,
            dry_run=dry_run,
            index_args=self._index_args(torch_index),
        )
        return [*argv, NO_BUILD] if no_build else argv

    def _index_args(self, torch_index: str) -> list[str] | None:
        """The version's torch index ahead of the configured sources, or just the sources."""
        return plan.torch_index_args(self.sources, torch_index, "uv") if torch_index else None

    async def _dry(self, argv: list[str]) -> DryRun:
        child = ChildProcess(argv, env=self.env, tail_lines=400)
        lines = [line async for line in _lines(child)]
        assert child.returncode is not None
        reason = ""
        builds = source_build_names(lines) if NO_BUILD in argv else []
        if child.returncode != 0 and builds:
            reason = (
                f"{', '.join(builds)} would have to be built from source (running its setup "
                "code), and the uv cache no longer holds its build"
            )
        elif child.returncode != 0:
            reason = (
                uv_error(lines)
                or (lines[-1].strip() if lines else "")
                or f"uv exited with {child.returncode}"
            )
        return DryRun(child.returncode, tuple(lines), reason)

    async def dry_run_install(
        self,
        python: Path,
        requirements: Path,
        constraints: Path | None,
        torch_index: str,
        *,
        no_build: bool = True,
    ) -> DryRun:
        """What installing `requirements` (held by `constraints`) would change; with
        `no_build` no source distribution is built (so none of their code runs)."""
        return await self._dry(
            self._install_argv(
                python, requirements, constraints, torch_index, dry_run=True, no_build=no_build
            )
        )

    def install(
        self,
        python: Path,
        requirements: Path,
        constraints: Path | None,
        torch_index: str,
        what: str,
        *,
        no_build: bool = True,
    ) -> AsyncGenerator[Event, None]:
        argv = self._install_argv(
            python, requirements, constraints, torch_index, dry_run=False, no_build=no_build
        )
        return run_tool(argv, self.env, "uv", what)

    def _sync_argv(
        self, python: Path, packages: Path, torch_index: str, *, dry_run: bool
    ) -> list[str]:
        """A sync builds nothing: what it restores was installed before, so a package built
        from source then comes from the uv cache now (its setup code does not run again)."""
        argv = plan.uv_sync_argv(
            self.uv,
            python,
            self.cache,
            self.sources,
            packages,
            dry_run=dry_run,
            index_args=self._index_args(torch_index),
        )
        return [*argv, NO_BUILD]

    async def dry_run_sync(self, python: Path, packages: Path, torch_index: str) -> DryRun:
        """Whether the venv can be brought to exactly `packages`, and what would change."""
        return await self._dry(self._sync_argv(python, packages, torch_index, dry_run=True))

    def sync(
        self, python: Path, packages: Path, torch_index: str, what: str
    ) -> AsyncGenerator[Event, None]:
        """Make the venv hold exactly the packages listed in `packages`."""
        return run_tool(
            self._sync_argv(python, packages, torch_index, dry_run=False), self.env, "uv", what
        )


async def _lines(child: ChildProcess) -> AsyncGenerator[str, None]:
    async with aclosing(child.lines()) as stream:
        async for line in stream:
            yield line

"""A node's dependencies in one version's venv: a plan first (uv dry run), then the change.

`make_plan` never changes anything and runs no code of the node or of its dependencies:

- its requirements.txt (and the nested files it names) is checked line by line
  (`core.req_policy`): direct references, ``-e``, outside ``-r`` files and option lines are
  refused with `RequirementsRefused` unless the user allowed them (``allow_direct_refs``);
- ``uv pip install --dry-run --no-build -r requirements.txt`` with the version's constraints
  file, which pins the torch family, gives the changes. Packages that exist only as source
  distributions make uv stop: the plan then lists them (`source_builds`, "would build from
  source") and is `blocked` until a plan is made with ``allow_builds=True`` (the user agreed
  that their setup code runs; that dry run builds them);
- when the pins make the requirements unsatisfiable, a second dry run without them shows
  which torch change the node wants: the plan then carries `torch_changes` and is `blocked`
  unless it was made with ``force=True``.

`apply_deps` is the second call: it installs what the plan showed (with the pins, unless the
plan is a forced torch change; ``--no-build`` unless builds were allowed), runs install.py only
when asked, and re-pins the torch family after a forced change. On failure the caller syncs the
venv back to the snapshot taken before.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field, replace
from pathlib import Path

from comfy_tui.core.install_plan import TORCH_FAMILY
from comfy_tui.core.node_plan import (
    PackageChange,
    parse_changes,
    requirement_names,
    source_build_names,
    torch_changes,
)
from comfy_tui.core.req_policy import RefusedLine, RequirementsRefused, check_requirements
from comfy_tui.errors import InstallError
from comfy_tui.events import LogLine, Step, forwards
from comfy_tui.services.envs import run_tool
from comfy_tui.services.nodes.uvtool import VenvTool
from comfy_tui.services.nodes.version_env import VersionEnv

__all__ = ["DepsPlan", "apply_deps", "make_plan"]

REQUIREMENTS = "requirements.txt"
INSTALL_SCRIPT = "install.py"


@dataclass(frozen=True)
class DepsPlan:
    """What enabling node `name` in version `tag` would change in that version's venv."""

    name: str
    tag: str
    commit: str  # the node's commit the plan was made for
    requirements: bool  # the node has a requirements.txt
    changes: tuple[PackageChange, ...] = ()
    torch_changes: tuple[PackageChange, ...] = ()
    forced: bool = False
    install_script: bool = False  # the node has an install.py (runs only when asked)
    enabled: bool = False  # already linked into the version
    notes: tuple[str, ...] = field(default=())
    allowed_lines: tuple[RefusedLine, ...] = ()  # refused lines the user let through
    source_builds: tuple[str, ...] = ()  # packages that exist only as source distributions
    builds_allowed: bool = False  # the user agreed that source builds run their setup code

    @property
    def builds_blocked(self) -> bool:
        """Source builds the user has not agreed to: `apply` refuses them."""
        return bool(self.source_builds) and not self.builds_allowed

    @property
    def blocked(self) -> bool:
        """A torch change that was not forced, or unagreed source builds: `apply` refuses."""
        return (bool(self.torch_changes) and not self.forced) or self.builds_blocked

    @property
    def needs_install(self) -> bool:
        return bool(self.changes)

    def refusal(self) -> str:
        if self.builds_blocked:
            return (
                f"{self.name} needs {', '.join(self.source_builds)} built from source, which "
                "runs their setup code: refused until you agree"
            )
        wanted = ", ".join(c.describe() for c in self.torch_changes)
        return (
            f"{self.name} would change the torch family of {self.tag} ({wanted}): refused "
            "(this is what breaks ComfyUI; force it only if you mean it)"
        )

    def build_lines(self) -> list[str]:
        """One line per package that would build from source."""
        return [f"{n}: would build from source (runs its setup code)" for n in self.source_builds]

    def summary(self) -> list[str]:
        """Lines for a confirmation: what would change."""
        lines = [c.describe() for c in self.changes]
        lines += [f"allowed by you: {line.describe()}" for line in self.allowed_lines]
        lines += self.build_lines()
        if self.builds_blocked:
            lines.append("the other changes are known once the builds are agreed to")
        elif not self.requirements:
            lines.append(f"{self.name} has no requirements.txt: no packages change")
        elif not self.changes:
            lines.append("every requirement is already installed: no packages change")
        if self.install_script:
            lines.append(f"{self.name} has an install.py (it runs code; only if you say so)")
        return [*lines, *self.notes]


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


async def make_plan(
    tool: VenvTool,
    env: VersionEnv,
    name: str,
    checkout: Path,
    commit: str,
    *,
    force: bool,
    allow_direct_refs: bool = False,
    allow_builds: bool = False,
) -> DepsPlan:
    """The dry run (see the module docstring). Raises RequirementsRefused for refused lines
    (unless `allow_direct_refs`) and InstallError when uv cannot plan."""
    requirements = checkout / REQUIREMENTS
    script = (checkout / INSTALL_SCRIPT).is_file()
    base = DepsPlan(
        name,
        env.tag,
        commit,
        requirements.is_file(),
        forced=force,
        install_script=script,
        builds_allowed=allow_builds,
    )
    if not requirements.is_file():
        return base
    text = await asyncio.to_thread(_read, requirements)
    refused = await asyncio.to_thread(
        check_requirements, requirements, checkout, _read, label=f"{name}/{REQUIREMENTS}"
    )
    if refused and not allow_direct_refs:
        raise RequirementsRefused(name, refused)
    base = replace(base, allowed_lines=tuple(refused))
    pins = env.constraints if env.constraints.is_file() else None
    no_build = not allow_builds
    protected = await tool.dry_run_install(
        env.python, requirements, pins, env.torch_index, no_build=no_build
    )
    builds = source_build_names(protected.lines) if no_build and not protected.ok else []
    if builds:
        return replace(base, source_builds=tuple(builds))
    if protected.ok:
        changes = parse_changes(protected.lines)
        return replace(base, changes=tuple(changes), torch_changes=tuple(torch_changes(changes)))
    wants_torch = bool(requirement_names(text) & set(TORCH_FAMILY)) or any(
        t in protected.reason for t in TORCH_FAMILY
    )
    if pins is None or not wants_torch:
        raise InstallError(f"{name}'s {REQUIREMENTS} cannot be installed in {env.tag}: "
                           f"{protected.reason}")  # fmt: skip
    free = await tool.dry_run_install(
        env.python, requirements, None, env.torch_index, no_build=no_build
    )
    changes = parse_changes(free.lines) if free.ok else []
    wanted = torch_changes(changes)
    if not free.ok or not wanted:
        raise InstallError(
            f"{name} asks for a torch build {env.tag} cannot have ({protected.reason}): "
            "refused; nothing changed"
        )
    return replace(base, changes=tuple(changes), torch_changes=tuple(wanted))


@forwards
async def apply_deps(
    tool: VenvTool,
    env: VersionEnv,
    plan: DepsPlan,
    checkout: Path,
    *,
    run_install_script: bool,
) -> AsyncGenerator[Step, None]:
    """Install the plan's packages, then install.py if asked. Raises InstallError."""
    if plan.blocked:
        raise InstallError(plan.refusal())
    if plan.needs_install:
        pins = None if plan.torch_changes else env.constraints
        if pins is not None and not pins.is_file():
            pins = None
        what = f"installing {plan.name}'s requirements"
        install = tool.install(
            env.python,
            checkout / REQUIREMENTS,
            pins,
            env.torch_index,
            what,
            no_build=not plan.builds_allowed,
        )
        yield install
    if plan.install_script and run_install_script:
        yield LogLine(f"running {plan.name}/{INSTALL_SCRIPT} with {env.tag}'s Python", "comfy-tui")
        script = run_tool(
            [str(env.python), INSTALL_SCRIPT],
            tool.env,
            INSTALL_SCRIPT,
            f"{plan.name}/{INSTALL_SCRIPT}",
            cwd=checkout,
        )
        yield script
    elif plan.install_script:
        yield LogLine(f"{plan.name}/{INSTALL_SCRIPT} was not run (not confirmed)", "comfy-tui")

"""A node's dependencies in one version's venv: a plan first (uv dry run), then the change.

`make_plan` never changes anything. It runs ``uv pip install --dry-run -r requirements.txt``
with the version's constraints file, which pins the torch family, and turns uv's output into
a `DepsPlan`. When the pins make the requirements unsatisfiable, a second dry run without
them shows which torch change the node wants: the plan then carries `torch_changes` and is
`blocked` unless it was made with ``force=True``. A requirements.txt that uv cannot read, or
that carries pip options, is refused with one clear line.

`apply_deps` is the second call: it installs what the plan showed (with the pins, unless the
plan is a forced torch change), runs install.py only when asked, and re-pins the torch family
after a forced change. On failure it syncs the venv back to the snapshot taken before.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field, replace
from pathlib import Path

from comfy_tui.core.install_plan import TORCH_FAMILY
from comfy_tui.core.node_plan import (
    PackageChange,
    check_requirements_text,
    parse_changes,
    requirement_names,
    torch_changes,
)
from comfy_tui.errors import InstallError
from comfy_tui.events import Event, LogLine
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

    @property
    def blocked(self) -> bool:
        """A torch change that was not forced: `apply` refuses it."""
        return bool(self.torch_changes) and not self.forced

    @property
    def needs_install(self) -> bool:
        return bool(self.changes)

    def refusal(self) -> str:
        wanted = ", ".join(c.describe() for c in self.torch_changes)
        return (
            f"{self.name} would change the torch family of {self.tag} ({wanted}): refused "
            "(this is what breaks ComfyUI; force it only if you mean it)"
        )

    def summary(self) -> list[str]:
        """Lines for a confirmation: what would change."""
        lines = [c.describe() for c in self.changes]
        if not self.requirements:
            lines.append(f"{self.name} has no requirements.txt: no packages change")
        elif not self.changes:
            lines.append("every requirement is already installed: no packages change")
        if self.install_script:
            lines.append(f"{self.name} has an install.py (it runs code; only if you say so)")
        return [*lines, *self.notes]


async def make_plan(
    tool: VenvTool, env: VersionEnv, name: str, checkout: Path, commit: str, *, force: bool
) -> DepsPlan:
    """The dry run (see the module docstring). Raises InstallError when uv cannot plan."""
    requirements = checkout / REQUIREMENTS
    script = (checkout / INSTALL_SCRIPT).is_file()
    base = DepsPlan(
        name, env.tag, commit, requirements.is_file(), forced=force, install_script=script
    )
    if not requirements.is_file():
        return base
    text = await asyncio.to_thread(requirements.read_text, encoding="utf-8", errors="replace")
    check_requirements_text(text, f"{name}/{REQUIREMENTS}")
    pins = env.constraints if env.constraints.is_file() else None
    protected = await tool.dry_run_install(env.python, requirements, pins, env.backend)
    if protected.ok:
        changes = parse_changes(protected.lines)
        return replace(base, changes=tuple(changes), torch_changes=tuple(torch_changes(changes)))
    wants_torch = bool(requirement_names(text) & set(TORCH_FAMILY)) or any(
        t in protected.reason for t in TORCH_FAMILY
    )
    if pins is None or not wants_torch:
        raise InstallError(f"{name}'s {REQUIREMENTS} cannot be installed in {env.tag}: "
                           f"{protected.reason}")  # fmt: skip
    free = await tool.dry_run_install(env.python, requirements, None, env.backend)
    changes = parse_changes(free.lines) if free.ok else []
    wanted = torch_changes(changes)
    if not free.ok or not wanted:
        raise InstallError(
            f"{name} asks for a torch build {env.tag} cannot have ({protected.reason}): "
            "refused; nothing changed"
        )
    return replace(base, changes=tuple(changes), torch_changes=tuple(wanted))


async def apply_deps(
    tool: VenvTool,
    env: VersionEnv,
    plan: DepsPlan,
    checkout: Path,
    *,
    run_install_script: bool,
) -> AsyncGenerator[Event, None]:
    """Install the plan's packages, then install.py if asked. Raises InstallError."""
    if plan.blocked:
        raise InstallError(plan.refusal())
    if plan.needs_install:
        pins = None if plan.torch_changes else env.constraints
        if pins is not None and not pins.is_file():
            pins = None
        what = f"installing {plan.name}'s requirements"
        install = tool.install(env.python, checkout / REQUIREMENTS, pins, env.backend, what)
        async with aclosing(install) as stream:
            async for event in stream:
                yield event
    if plan.install_script and run_install_script:
        yield LogLine(f"running {plan.name}/{INSTALL_SCRIPT} with {env.tag}'s Python", "comfy-tui")
        script = run_tool(
            [str(env.python), INSTALL_SCRIPT],
            tool.env,
            INSTALL_SCRIPT,
            f"{plan.name}/{INSTALL_SCRIPT}",
            cwd=checkout,
        )
        async with aclosing(script) as stream:
            async for event in stream:
                yield event
    elif plan.install_script:
        yield LogLine(f"{plan.name}/{INSTALL_SCRIPT} was not run (not confirmed)", "comfy-tui")

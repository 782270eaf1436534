"""`upgrade FROM TO`: rehearse an upgrade with FROM's custom nodes before anything running moves.

Three steps, so a front end can ask between them (no node code runs before the user agrees,
as with `nodes enable`):

1. `prepare()`: TO is an installed version, or a tag / branch / commit installed now beside
   FROM (same staging, torch backend as FROM, smoke test);
2. `plans()`: for every shared node FROM enables, the dry-run plan of enabling it in TO
   (`NodesService.plan`: torch pins held, refused requirement lines, source builds); the same
   shared checkout is linked, so each node is at the very commit FROM runs;
3. `apply(plans, agreed)` enables them (packages only with `agreed`; install.py never) and
   `check()` runs TO's `main.py --quick-test-for-ci` with them loaded and reads, per node,
   loaded / import failed (its error line) / missing dependency (core/node_load.py).

`report` says it all; `report.ok` (every node loaded) is what `--switch` requires.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from comfy_tui.core.node_load import NodeLoad, read_node_loads
from comfy_tui.errors import ComfyTuiError, NotFoundError, ValidationError
from comfy_tui.events import Event, Finished, LogLine, Progress
from comfy_tui.paths import DataPaths
from comfy_tui.services.lifecycle.install_ref import RefInstall
from comfy_tui.services.lifecycle.update import env_builder
from comfy_tui.services.nodes import NodesService
from comfy_tui.services.nodes.deps import DepsPlan
from comfy_tui.services.nodes.links import read_version_nodes
from comfy_tui.services.smoke import QUICK_TEST, SmokeTest
from comfy_tui.services.versions import VersionsService
from comfy_tui.store import version_records
from comfy_tui.store.version_records import VersionRecord
from comfy_tui.validate import validate_tag

__all__ = ["NodePlan", "NodeResult", "Rehearsal", "Upgrade"]


@dataclass(frozen=True)
class NodePlan:
    """A shared node of FROM and what enabling it in TO takes (`plan`), or why it cannot."""

    name: str
    plan: DepsPlan | None = None
    error: str = ""


@dataclass(frozen=True)
class NodeResult:
    """One node in TO: `status` is loaded, import failed, missing dependency, not loaded or
    not enabled (its plan was refused or not agreed to)."""

    name: str
    commit: str
    status: str
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "loaded"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "commit": self.commit,
            "status": self.status,
            "error": self.error,
        }


@dataclass
class Rehearsal:
    source: str
    target: str = ""
    installed_target: bool = False
    nodes: list[NodeResult] = field(default_factory=list)
    own_nodes: list[str] = field(default_factory=list)  # FROM's own nodes: not carried
    checked: str = ""  # what ran: "quick test" or why nothing could

    @property
    def ok(self) -> bool:
        return bool(self.target) and all(n.ok for n in self.nodes)

    def to_json(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.target,
            "installed_to": self.installed_target,
            "checked": self.checked,
            "ok": self.ok,
            "nodes": [n.to_json() for n in self.nodes],
            "own_nodes": self.own_nodes,
        }


class Upgrade:
    """One rehearsal of FROM -> TO (see the module docstring)."""

    def __init__(
        self,
        versions: VersionsService,
        nodes: NodesService,
        source: str,
        target: str,
    ) -> None:
        """Bad names fail now (ValidationError); TO may be any ref (installed if missing)."""
        self.versions = versions
        self.nodes = nodes
        self.paths: DataPaths = versions.paths
        self.source = validate_tag(source)
        self.target_ref = target
        self._install = RefInstall(versions, target)
        if self._install.ref == self.source:
            raise ValidationError(f"FROM and TO are both {self.source}: nothing to rehearse")
        self.report = Rehearsal(self.source)
        self._from: VersionRecord | None = None
        self._commits: dict[str, str] = {}

    @property
    def target(self) -> str:
        return self.report.target

    async def _record(self, tag: str) -> VersionRecord | None:
        return await asyncio.to_thread(version_records.load_record, self.paths, tag)

    async def prepare(self) -> AsyncGenerator[Event, None]:
        """FROM must be installed; TO is found, or installed beside it."""
        source = await self._record(self.source)
        if source is None:
            raise NotFoundError(f"{self.source} is not installed (comfy-tui versions)")
        self._from = source
        target = self._install.ref
        existing = await self._existing(target)
        if existing is not None:
            self.report.target = existing.tag
            yield LogLine(f"{existing.tag} is installed: rehearsing on it", "comfy-tui")
            return
        self._install.torch = source.torch_backend or "auto"
        yield LogLine(f"installing {target} beside {self.source}", "comfy-tui")
        async with aclosing(self._install.events()) as stream:
            async for event in stream:
                if not isinstance(event, Finished):
                    yield event
        assert self._install.name is not None
        self.report.target = self._install.name
        self.report.installed_target = True

    async def _existing(self, target: str) -> VersionRecord | None:
        try:
            return await self._record(validate_tag(target))
        except ValidationError:
            return None

    async def plans(
        self, *, allow_direct_refs: bool = False, allow_builds: bool = False
    ) -> list[NodePlan]:
        """Dry runs: what enabling each of FROM's shared nodes in TO would change."""
        assert self._from is not None and self.target
        found = await asyncio.to_thread(
            read_version_nodes, self.source, Path(self._from.path), self.paths.nodes_dir()
        )
        target = await self._record(self.target)
        shipped = Path(target.path) / "custom_nodes" if target else None
        self.report.own_nodes = [  # what TO ships itself (websocket_image_save.py) is no loss
            o.name for o in found.own if o.enabled and not (shipped and (shipped / o.name).exists())
        ]
        result = []
        for name in found.shared:
            try:
                info = await self.nodes.get(name)
                self._commits[name] = info.commit
                plan = await self.nodes.plan(
                    name,
                    self.target,
                    allow_direct_refs=allow_direct_refs,
                    allow_builds=allow_builds,
                )
                result.append(NodePlan(name, plan))
            except ComfyTuiError as exc:
                result.append(NodePlan(name, error=str(exc)))
        return result

    async def apply(self, plans: list[NodePlan], *, agreed: bool) -> AsyncGenerator[Event, None]:
        """Enable each planned node in TO: packages only when `agreed`, install.py never."""
        refused: list[NodeResult] = []
        for item in plans:
            commit = self._commits.get(item.name, "")
            plan = item.plan
            if plan is None:
                refused.append(NodeResult(item.name, commit, "not enabled", item.error))
            elif plan.enabled and not plan.changes:
                continue
            elif plan.blocked:
                refused.append(NodeResult(item.name, commit, "not enabled", plan.refusal()))
            elif plan.changes and not agreed:
                why = f"{len(plan.changes)} package change(s) not agreed to"
                refused.append(NodeResult(item.name, commit, "not enabled", why))
            else:
                try:
                    async with aclosing(self.nodes.enable(plan)) as stream:
                        async for event in stream:
                            if not isinstance(event, Finished):
                                yield event
                    yield LogLine(f"{item.name} enabled in {self.target}", "comfy-tui")
                except ComfyTuiError as exc:
                    refused.append(NodeResult(item.name, commit, "not enabled", str(exc)))
        self.report.nodes = refused

    async def check(self) -> AsyncGenerator[Event, None]:
        """TO's quick test with its custom nodes loaded; fills `report.nodes`."""
        target = await self._record(self.target)
        assert target is not None
        found = await asyncio.to_thread(
            read_version_nodes, target.tag, Path(target.path), self.paths.nodes_dir()
        )
        refused = {r.name: r for r in self.report.nodes}
        wanted = [n for n in self._commits if n not in refused]
        loads: dict[str, NodeLoad]
        if QUICK_TEST not in target.flags:
            self.report.checked = f"{target.tag} has no {QUICK_TEST}: nothing could be loaded"
            loads = {n: NodeLoad(n, "not loaded", self.report.checked) for n in wanted}
        else:
            yield Progress("check", 0.5, detail=f"{target.tag}: loading the custom nodes")
            envs = env_builder(self.versions.settings, self.paths, target)
            smoke = SmokeTest(Path(target.python), Path(target.path), envs.env)
            lines: list[str] = []
            async with aclosing(smoke.run()) as stream:
                async for event in stream:
                    if isinstance(event, LogLine):
                        lines.append(event.text)
                        yield event
            loads = read_node_loads(lines, [*found.shared])
            self.report.checked = "quick test"
        results = [
            NodeResult(n, self._commits.get(n, ""), loads[n].status, loads[n].error)
            for n in wanted
            if n in loads
        ]
        self.report.nodes = sorted([*results, *refused.values()], key=lambda r: r.name.lower())
        bad = [n for n in self.report.nodes if not n.ok]
        yield Finished(
            f"{self.source} -> {self.target}: {len(self.report.nodes) - len(bad)} of "
            f"{len(self.report.nodes)} custom node(s) loaded"
        )

"""Shared setup for the Nodes screen tests: fixed nodes, plans and snapshots; a settle helper.

`ScriptedNodes` is the real NodesService except that the overview and the plans are fixed
data (the real ones are covered by the integration tests), so snapshots show no real paths,
commits or times. Snapshot files are real (written with fixed ids and times).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from comfy_tui.core.node_plan import PackageChange
from comfy_tui.paths import DataPaths
from comfy_tui.services.container import Services
from comfy_tui.services.nodes import DepsPlan, NodeInfo, NodesOverview, NodesService, OwnNode
from comfy_tui.services.version_guard import VersionGuard
from comfy_tui.settings import Settings
from comfy_tui.store.envsnap_records import NodeState, Snapshot, save_snapshot
from comfy_tui.ui.app import ComfyTuiApp
from tests import waiting
from tests.ui.app_factory import make_test_app

T0 = 1_800_000_000.0

OVERVIEW = NodesOverview(
    nodes=(
        NodeInfo(
            "ComfyUI-Impact-Pack",
            "https://github.com/ltdrdata/ComfyUI-Impact-Pack",
            "3f2a9c1d0b8e" + "0" * 28,
            "main",
            ("v0.4.0", "v0.3.77"),
            True,
            True,
            T0,
        ),
        NodeInfo(
            "ComfyUI-KJNodes",
            "https://github.com/kijai/ComfyUI-KJNodes",
            "a41b07e5c2d9" + "0" * 28,
            "main",
            (),
            True,
            False,
            T0,
        ),
        NodeInfo(
            "rgthree-comfy",
            "https://github.com/rgthree/rgthree-comfy",
            "9d0e4f7a1b2c" + "0" * 28,
            "",
            ("v0.3.77",),
            False,
            False,
            T0,
        ),
    ),
    own=(
        OwnNode("v0.4.0", "websocket_image_save.py", "file"),
        OwnNode("v0.3.77", "my-experiments", "git"),
        OwnNode("v0.3.77", "old_sampler.py.disabled", "file", enabled=False),
    ),
    versions=("v0.4.0", "v0.3.77"),
)

PLAN = DepsPlan(
    "ComfyUI-KJNodes", "v0.4.0", "a41b07e5c2d9" + "0" * 28, True,
    changes=(PackageChange("color-matcher", "", "0.5.0"), PackageChange("mss", "", "10.0.0"),
             PackageChange("numpy", "1.26.4", "2.1.3")),
    install_script=False,
)  # fmt: skip

TORCH_PLAN = dataclasses.replace(
    PLAN,
    changes=(PackageChange("torch", "2.9.1+cu128", "2.4.0"),),
    torch_changes=(PackageChange("torch", "2.9.1+cu128", "2.4.0"),),
)


class ScriptedNodes(NodesService):
    """Fixed overview and plans; everything else is the real service."""

    def __init__(
        self, settings: Settings, paths: DataPaths, plan: DepsPlan, guard: VersionGuard
    ) -> None:
        super().__init__(settings, paths, guard=guard)
        self.fixed_plan = plan
        self.overview_data = OVERVIEW

    async def overview(self) -> NodesOverview:
        return self.overview_data

    async def enabled_in(self, name: str) -> list[str]:
        return [t for n in self.overview_data.nodes if n.name == name for t in n.enabled_in]

    async def plan(
        self,
        name: str,
        tag: str,
        *,
        force: bool = False,
        allow_direct_refs: bool = False,
        allow_builds: bool = False,
    ) -> DepsPlan:
        return dataclasses.replace(
            self.fixed_plan, name=name, tag=tag, forced=force, builds_allowed=allow_builds
        )


def write_snapshots(data_dir: Path, tag: str = "v0.4.0") -> None:
    paths = DataPaths(data_dir)
    packages = tuple(f"pkg{i}==1.{i}" for i in range(61))
    nodes = (NodeState("ComfyUI-Impact-Pack", "shared", "3f2a9c1d0b8e" + "0" * 28),)
    for i, reason in enumerate(
        ["on demand", "before enabling ComfyUI-Impact-Pack", "before updating ComfyUI-Impact-Pack"]
    ):
        when = T0 - 86400 * (3 - i)
        snapshot_id = f"2027011{2 + i}-080000"
        held = nodes if i else ()
        save_snapshot(
            paths, Snapshot(snapshot_id, tag, when, reason, "0" * 40, held, packages[: 58 + i])
        )


def nodes_app(data_dir: Path, plan: DepsPlan = PLAN) -> ComfyTuiApp:
    def services(built: Services) -> Services:
        built.nodes = ScriptedNodes(built.settings, built.paths, plan, built.guard)
        return built

    return make_test_app(data_dir, services=services)


async def settle(pilot: Pilot[Any]) -> None:
    """Wait for the Nodes screen's workers (loading, flows), then let it render."""
    await waiting.settle(pilot, lambda w: w.group == "nodes:load")

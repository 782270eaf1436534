"""pytest fixtures for custom nodes: a node mirror, extra wheels, settings, installed versions.

Node tests install real versions of the fake ComfyUI (the install fixtures' upstream repo and
wheelhouse) and add node wheels next to them:

- `node_wheels`: ``nodedep`` 1.0 and 2.0, ``otherdep`` 1.0 (what fake nodes require);
- `torch_one`: a folder holding only ``torch 1.0`` (a node asking for it can be resolved, so
  the refusal is ours, not the resolver's).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from comfy_tui.events import Event
from comfy_tui.paths import DataPaths
from comfy_tui.services.nodes import NodesService
from comfy_tui.services.versions import VersionsService
from comfy_tui.settings import Settings
from tests.fakes.guards import fake_guard, real_guard
from tests.fakes.install_fixtures import install_settings_for
from tests.fakes.node_repo import NodeMirror
from tests.fakes.wheelhouse import build_wheel


@pytest.fixture(scope="session")
def node_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("node-wheels")
    build_wheel(dest, "nodedep", "1.0")
    build_wheel(dest, "nodedep", "2.0")
    build_wheel(dest, "otherdep", "1.0")
    return dest


@pytest.fixture(scope="session")
def torch_one(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("torch-one")
    build_wheel(dest, "torch", "1.0")
    return dest


@pytest.fixture
def node_mirror(tmp_path: Path) -> NodeMirror:
    return NodeMirror(tmp_path / "node-mirror")


def nodes_settings_for(
    data_dir: Path, upstream: Path, mirror: NodeMirror, *wheel_dirs: Path, **kw: object
) -> Settings:
    """Install settings whose find_links are `wheel_dirs` and whose nodes_mirror is `mirror`."""
    return install_settings_for(
        data_dir,
        upstream,
        wheel_dirs[0],
        find_links=tuple(d.as_uri() for d in wheel_dirs),
        nodes_mirror=mirror.uri,
        **kw,
    )


@pytest.fixture
def nodes_settings(
    data_dir: Path,
    fake_upstream: Path,
    wheelhouse: Path,
    node_wheels: Path,
    node_mirror: NodeMirror,
) -> Settings:
    return nodes_settings_for(data_dir, fake_upstream, node_mirror, wheelhouse, node_wheels)


class StepClock:
    """A fake `now` for snapshot ids: each call is `step` seconds after the previous one."""

    def __init__(self, start: float = 1_800_000_000.0, step: float = 61.0) -> None:
        self.t = start
        self.step = step

    def __call__(self) -> float:
        self.t += self.step
        return self.t


def nodes_service(settings: Settings, **kw: object) -> NodesService:
    """The nodes service over `settings`; `running` (tag -> count) fakes live instances."""
    paths = DataPaths(settings.data_dir)
    running = kw.pop("running", None)
    guard = real_guard(paths) if running is None else fake_guard(paths, running)  # type: ignore[arg-type]
    return NodesService(settings, paths, guard=guard, **kw)  # type: ignore[arg-type]


async def install_versions(settings: Settings, *tags: str) -> None:
    """Install real versions of the fake ComfyUI (about a second each)."""
    paths = DataPaths(settings.data_dir)
    service = VersionsService(settings, paths, guard=real_guard(paths), detect_gpu=lambda: None)
    for tag in tags:
        async for _ in service.install(tag, "cpu"):
            pass


async def drain(events: AsyncIterator[Event]) -> list[Event]:
    """Every event of a job."""
    return [event async for event in events]

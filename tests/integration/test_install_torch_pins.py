"""Torch stays protected whatever `--torch` said: after `--torch none` the pins still hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from comfy_tui.errors import InstallError
from comfy_tui.paths import DataPaths
from comfy_tui.services.versions import VersionsService
from tests.fakes.guards import real_guard
from tests.fakes.node_fixtures import drain, nodes_service, nodes_settings_for
from tests.fakes.node_repo import NodeCommit, NodeMirror

pytestmark = pytest.mark.usefixtures("no_leftover_children")


async def test_a_node_asking_for_another_torch_after_a_torch_none_install_is_refused(
    data_dir: Path,
    fake_upstream: Path,
    wheelhouse: Path,
    node_wheels: Path,
    torch_one: Path,
    node_mirror: NodeMirror,
) -> None:
    settings = nodes_settings_for(
        data_dir, fake_upstream, node_mirror, wheelhouse, node_wheels, torch_one
    )
    paths = DataPaths(data_dir)
    versions = VersionsService(settings, paths, guard=real_guard(paths), detect_gpu=lambda: None)
    await drain(versions.install("v0.3.77", "none"))
    record = await versions.get("v0.3.77")
    assert record is not None and record.torch_backend == "none"
    assert record.torch_build == "CUDA 12.8"  # the smoke test asked the torch it found
    pins = (data_dir / "versions" / "v0.3.77" / ".venv" / "comfy-tui-constraints.txt").read_text()
    assert f"torch=={record.torch_version}" in pins

    node_mirror.add("OldTorch", NodeCommit(requirements="torch==1.0\n"))
    service = nodes_service(settings)
    await drain(service.add(node_mirror.url("OldTorch")))
    plan = await service.plan("OldTorch", "v0.3.77")
    assert plan.blocked
    assert [c.describe() for c in plan.torch_changes] == [f"~ torch {record.torch_version} → 1.0"]
    with pytest.raises(InstallError, match=r"would change the torch family of v0\.3\.77"):
        service.enable(plan)

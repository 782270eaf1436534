"""A throwaway data dir with the fake ComfyUI installed, an InstancesService over it, and a
cleanup that leaves no process behind (tests launch real processes on real ports)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
from pathlib import Path
from typing import Any

from comfy_tui.paths import DataPaths
from comfy_tui.services.instances.identity import verified_group
from comfy_tui.services.instances.service import InstancesService
from comfy_tui.services.library.service import LibraryService
from comfy_tui.settings import Settings
from comfy_tui.store.instance_records import list_instances
from comfy_tui.store.version_records import VersionRecord
from tests.fakes.guards import real_guard
from tests.fakes.installed_version import install_fake_version


async def no_model_paths(tag: str) -> None:
    """For a service that only stops instances: it never launches, so maps no library."""
    return None


def free_port() -> int:
    """A port the kernel says is free now (the start of a test's port range)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


class Lab:
    """Instances of a fake ComfyUI under `root`. Its deadlines are last resorts: the fake
    answers and exits on SIGINT in about a second, a loaded box takes longer, and the service
    goes on as soon as it has; a test of a deadline passes its own (`stop_grace=0.5`)."""

    def __init__(
        self,
        tmp_path: Path,
        *,
        ready_timeout: float = 120.0,
        stop_grace: float = 60.0,
        base_port: int | None = None,
    ) -> None:
        self.root = tmp_path / "data"
        self.settings = Settings(
            data_dir=self.root,
            base_port=base_port or free_port(),
            ready_timeout=ready_timeout,
            stop_grace=stop_grace,
        )
        self.paths = DataPaths(self.root)
        self.version: VersionRecord = install_fake_version(self.paths)

    def service(self, gpu_count: int = 0, **kw: Any) -> InstancesService:
        """The instances service wired as the container wires it (the real guard, the real
        model library); `kw` replaces any part."""
        kw.setdefault("hostname", lambda: "gpubox")
        kw.setdefault("username", lambda: "me")
        kw.setdefault("guard", real_guard(self.paths))
        kw.setdefault("model_paths", LibraryService(self.settings, self.paths).map_into_version)
        kw.setdefault("wiring", None)
        return InstancesService(self.settings, self.paths, gpu_count=lambda: gpu_count, **kw)

    async def cleanup(self) -> None:
        await stop_everything(self.root)


async def stop_everything(root: Path) -> None:
    """Stop whatever is still live under `root`, then SIGKILL any group of ours that survived."""
    paths = DataPaths(root)
    svc = InstancesService(
        Settings(data_dir=root, stop_grace=2.0),
        paths,
        guard=real_guard(paths),
        model_paths=no_model_paths,
        wiring=None,
        gpu_count=lambda: 0,
    )
    for record in list_instances(paths):
        if record.live:
            with contextlib.suppress(Exception):
                await svc.stop(record.id)
    for record in list_instances(paths):
        group = verified_group(record)
        if group is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)

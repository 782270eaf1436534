"""Apps for the Instances screen tests: one over real processes, one over fixed fake data.

`real_app` installs the fake ComfyUI and launches for real (ports from a free one up).
`fake_app` replaces `refresh` with fixed views (fixed pids, ports, uptimes) so snapshots
are deterministic, and writes a fixed log file for the log view.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from comfy_tui.paths import DataPaths
from comfy_tui.services.container import Services, build_instances
from comfy_tui.services.instances.service import InstancesService
from comfy_tui.services.instances.views import InstanceView
from comfy_tui.store.instance_records import InstanceRecord
from comfy_tui.ui.app import ComfyTuiApp
from tests.fakes.installed_version import install_fake_version
from tests.fakes.instance_lab import free_port
from tests.ui.app_factory import make_test_app

CLOCK = 1_800_000_000.0


def _with_instances(make: Callable[[Services], InstancesService]) -> Callable[[Services], Services]:
    def swap(built: Services) -> Services:
        built.instances = make(built)
        return built

    return swap


def real_app(data_dir: Path, **settings: object) -> ComfyTuiApp:
    install_fake_version(DataPaths(data_dir))
    values = {"base_port": free_port(), "ready_timeout": 20.0, "stop_grace": 5.0, **settings}
    return make_test_app(
        data_dir,
        settings=values,
        services=_with_instances(
            lambda s: build_instances(
                s, gpu_count=lambda: 0, hostname=lambda: "gpubox", username=lambda: "me"
            )
        ),
    )


def record(instance_id: str, port: int, **kw: object) -> InstanceRecord:
    base: dict[str, object] = {
        "id": instance_id,
        "version": "v0.3.77",
        "port": port,
        "listen": "127.0.0.1",
        "gpu": 0,
        "argv": ("python", "main.py", "--port", str(port)),
        "cwd": "/srv/comfy-tui/versions/v0.3.77",
        "log_path": "",
        "started_at": CLOCK - 4000,
        "child_started_at": CLOCK - 3725,
        "state": "running",
        "pid": 4242,
    }
    base.update(kw)
    return InstanceRecord(**base)  # type: ignore[arg-type]


class FakeInstances(InstancesService):
    """Fixed views instead of processes; everything else is the real service."""

    def __init__(self, built: Services, log_path: Path) -> None:
        super().__init__(
            built.settings,
            built.paths,
            guard=built.guard,
            model_paths=built.library.map_into_version,
            wiring=None,
            gpu_count=lambda: 2,
            clock=lambda: CLOCK,
            hostname=lambda: "gpubox",
            username=lambda: "me",
        )
        log = str(log_path)
        self.records = [
            record("c4a1f0", 8188, log_path=log, restarts=1, auto_restart=True, wanted=True),
            record("c7b2e9", 8189, gpu=1, listen="0.0.0.0", pid=4343, log_path=log),
            record("c9d3a2", 8190, state="starting", version="v0.45.2", pid=4444, log_path=log,
                   child_started_at=CLOCK - 12),
            record("c2e4b7", 8191, state="crashed", gpu=None, log_path=log, exit_code=1,
                   reason="exited with code 1: ASSETS_STARTUP_FAILED: in_use",
                   ended_at=CLOCK - 60),
        ]  # fmt: skip
        self.usage = {"c4a1f0": (37.0, 912 * 2**20), "c7b2e9": (3.0, 885 * 2**20)}
        self.queues = {"c4a1f0": 2, "c7b2e9": 0}

    async def refresh(self) -> list[InstanceView]:
        views = [
            self.view(r, self.queues.get(r.id), self.usage.get(r.id, (None, None)))
            for r in self.records
        ]
        self.last_views = views
        return views


def fake_app(data_dir: Path) -> ComfyTuiApp:
    paths = DataPaths(data_dir)
    install_fake_version(paths)
    log = paths.logs_dir() / "c4a1f0.log"
    lines = ["[comfy-tui] launching c4a1f0: python main.py --port 8188"]
    lines += [f"Import times for custom nodes: {i / 10:.1f} seconds: node_{i}" for i in range(60)]
    lines += ["Starting server", "", "To see the GUI go to: http://127.0.0.1:8188"]
    log.write_text("\n".join(lines) + "\n")
    return make_test_app(data_dir, services=_with_instances(lambda s: FakeInstances(s, log)))

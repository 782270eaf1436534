"""Version guards for tests: the real one over a data dir, or one that reports fixed
instances as live (a fake "which versions run"; the version lock is still the real one)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from comfy_tui.paths import DataPaths
from comfy_tui.services.version_guard import VersionGuard, live_instances
from comfy_tui.store.instance_records import InstanceRecord


def real_guard(paths: DataPaths) -> VersionGuard:
    return VersionGuard(paths, live=lambda: live_instances(paths))


def fake_live(tag: str, port: int = 8188, state: str = "running", n: int = 0) -> InstanceRecord:
    return InstanceRecord(
        id=f"fake{n}",
        version=tag,
        port=port + n,
        listen="127.0.0.1",
        gpu=None,
        argv=("python", "main.py"),
        cwd="/nowhere",
        log_path="",
        started_at=0.0,
        state=state,  # type: ignore[arg-type]
    )


def fake_guard(
    paths: DataPaths, running: Mapping[str, int] | Callable[[], Mapping[str, int]]
) -> VersionGuard:
    """A guard whose live instances are `running` (tag -> count), read at each question."""

    def live() -> list[InstanceRecord]:
        counts = running() if callable(running) else running
        return [fake_live(tag, n=i) for tag, count in counts.items() for i in range(count)]

    return VersionGuard(paths, live=live)

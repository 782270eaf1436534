"""Installing for real: git, uv and pip against a fake ComfyUI repo and a local wheelhouse."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path

import pytest

from comfy_tui.errors import (
    InstallError,
    LockBusyError,
    NetworkError,
    NotFoundError,
    VersionInUseError,
)
from comfy_tui.events import Event, Finished, LogLine, Progress
from comfy_tui.paths import DataPaths
from comfy_tui.services.gpu_detect import DriverInfo
from comfy_tui.services.versions import VersionsService
from comfy_tui.settings import Settings
from tests.fakes.comfyui_repo import FakeTag, add_tag, build_comfyui_repo
from tests.fakes.guards import fake_guard, real_guard
from tests.fakes.install_fixtures import install_settings_for, processes_under
from tests.fakes.wheelhouse import build_wheelhouse
from tests.waiting import until

pytestmark = pytest.mark.usefixtures("no_leftover_children")


def service_for(settings: Settings, **kw: object) -> VersionsService:
    """The versions service; `running` (tag -> count, or a callable) fakes live instances."""
    kw.setdefault("detect_gpu", lambda: None)
    paths = DataPaths(settings.data_dir)
    running = kw.pop("running", None)
    guard = real_guard(paths) if running is None else fake_guard(paths, running)  # type: ignore[arg-type]
    return VersionsService(settings, paths, guard=guard, **kw)  # type: ignore[arg-type]


async def collect(service: VersionsService, tag: str, torch: str = "auto") -> list[Event]:
    return [event async for event in service.install(tag, torch)]


def logs(events: list[Event], source: str | None = None) -> list[str]:
    return [e.text for e in events if isinstance(e, LogLine) and source in (None, e.source)]


def nothing_left(data_dir: Path, tag: str) -> None:
    versions = data_dir / "versions"
    leftovers = [p.name for p in versions.iterdir()] if versions.exists() else []
    assert leftovers == [], leftovers
    assert not (data_dir / "metadata" / "versions" / f"{tag}.json").exists()


async def test_install_with_uv(install_settings: Settings, data_dir: Path) -> None:
    service = service_for(install_settings)
    events = await collect(service, "v0.3.77")

    assert isinstance(events[-1], Finished)
    fractions = [e.fraction for e in events if isinstance(e, Progress)]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    steps = [e.step for e in events if isinstance(e, Progress)]
    assert list(dict.fromkeys(steps)) == [
        "clone",
        "venv",
        "torch",
        "requirements",
        "compile",
        "smoke",
    ]
    assert {e.source for e in events if isinstance(e, LogLine)} >= {"git", "uv", "smoke"}
    assert "quick test passed" in logs(events, "smoke")

    record = await service.get("v0.3.77")
    assert record is not None
    final = data_dir / "versions" / "v0.3.77"
    assert record.path == str(final)
    assert record.python == str(final / ".venv" / "bin" / "python")
    assert (record.comfyui_version, record.torch_version) == ("0.3.77", "2.5.1+cpu")
    assert (record.torch_backend, record.installer) == ("cpu", "uv")
    assert record.python_version == ".".join(map(str, sys.version_info[:3]))
    assert len(record.commit) == 40
    assert record.size_bytes > 0
    assert set(record.step_seconds) == {
        "clone",
        "venv",
        "torch",
        "requirements",
        "compile",
        "smoke",
    }
    assert record.accepts("--quick-test-for-ci") and record.accepts("--cuda-device")
    assert not record.accepts("--enable-manager")

    constraints = (final / ".venv" / "comfy-tui-constraints.txt").read_text()
    assert "torch==2.5.1+cpu" in constraints and "torchvision==0.20.1+cpu" in constraints
    assert sorted(p.name for p in (data_dir / "versions").iterdir()) == ["v0.3.77"]
    assert await service.installed() == [record]
    assert "uv: " in service.install_log("v0.3.77").read_text()
    assert service.installing() == frozenset()
    # the venv works after the move from the staging dir
    run = await asyncio.create_subprocess_exec(
        record.python, "-c", "import tinydep, torch, requests; print(torch.__version__)",
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, _ = await run.communicate()
    assert out.decode().strip() == "2.5.1+cpu"


async def test_second_install_reuses_the_mirror_and_the_uv_cache(
    data_dir: Path, tmp_path: Path, wheelhouse: Path
) -> None:
    upstream = build_comfyui_repo(tmp_path / "upstream")
    service = service_for(install_settings_for(data_dir, upstream, wheelhouse))
    first = await collect(service, "v0.3.77")
    assert any("into the shared mirror" in line for line in logs(first, "git"))

    (upstream.parent / "gone").mkdir()
    upstream.rename(upstream.parent / "gone" / "ComfyUI.git")  # upstream unreachable now
    second = await collect(service, "v0.4.0")
    assert not any("mirror" in line or "fetching" in line for line in logs(second, "git"))
    record = await service.get("v0.4.0")
    assert record is not None and record.accepts("--enable-manager")

    site = "lib/python{}.{}/site-packages/torch/__init__.py".format(*sys.version_info[:2])
    a = (data_dir / "versions" / "v0.3.77" / ".venv" / site).stat()
    b = (data_dir / "versions" / "v0.4.0" / ".venv" / site).stat()
    assert a.st_ino == b.st_ino  # one file in the uv cache, hardlinked into both venvs


async def test_a_new_upstream_tag_is_fetched(
    data_dir: Path, tmp_path: Path, wheelhouse: Path
) -> None:
    upstream = build_comfyui_repo(tmp_path / "upstream")
    service = service_for(install_settings_for(data_dir, upstream, wheelhouse))
    await collect(service, "v0.3.77")
    add_tag(upstream, FakeTag("v0.4.1"))
    events = await collect(service, "v0.4.1")
    assert any("fetching new tags" in line for line in logs(events, "git"))
    record = await service.get("v0.4.1")
    assert record is not None and record.comfyui_version == "0.4.1"


@pytest.mark.slow
async def test_install_with_pip(install_settings: Settings, data_dir: Path) -> None:
    settings = install_settings_for(
        data_dir, Path(install_settings.comfyui_repo[7:]), Path(install_settings.find_links[0][7:]),
        installer="pip",
    )  # fmt: skip
    service = service_for(settings)
    events = await collect(service, "v0.3.77")
    assert {e.source for e in events if isinstance(e, LogLine)} >= {"pip", "smoke"}
    assert any("forgot to declare: requests" in line for line in logs(events))
    record = await service.get("v0.3.77")
    assert record is not None and record.installer == "pip"
    venv = data_dir / "versions" / "v0.3.77" / ".venv"
    assert (venv / "bin" / "pip").read_text().startswith(f"#!{venv}/bin/python")
    assert "torch==2.5.1+cpu" in (venv / "comfy-tui-constraints.txt").read_text()


@pytest.mark.slow
async def test_uv_falls_back_to_pip_when_it_is_missing(
    install_settings: Settings, data_dir: Path
) -> None:
    service = service_for(install_settings)
    service.installer.uv_bin = lambda: None
    events = await collect(service, "v0.4.0")
    assert any("uv was not found" in line for line in logs(events))
    record = await service.get("v0.4.0")
    assert record is not None and record.installer == "pip"


async def test_an_old_tag_resolves_as_of_its_date_and_smoke_tests_with_help(
    install_settings: Settings,
) -> None:
    service = service_for(install_settings)
    events = await collect(service, "v0.3.60")
    commands = [line for line in logs(events, "uv") if line.startswith("$ ")]
    assert "--exclude-newer 2021-03-02T12:00:00Z" in commands[-1]
    assert not any("forgot to declare" in line for line in logs(events))
    assert "quick test passed" not in logs(events, "smoke")
    record = await service.get("v0.3.60")
    assert record is not None and not record.accepts("--quick-test-for-ci")
    assert record.accepts("--port")


async def test_exclude_newer_can_be_turned_off(
    install_settings: Settings, data_dir: Path, fake_upstream: Path, wheelhouse: Path
) -> None:
    settings = install_settings_for(data_dir, fake_upstream, wheelhouse, exclude_newer_after_days=0)
    events = await collect(service_for(settings), "v0.3.60")
    assert not any("--exclude-newer" in line for line in logs(events, "uv"))
    assert any("forgot to declare: requests" in line for line in logs(events))


@pytest.mark.parametrize(
    ("torch", "driver", "expected"),
    [
        ("cu128", None, "2.5.1+cu128"),
        ("auto", DriverInfo("570.86.10", (12, 8), 1), "2.5.1+cu128"),
        ("none", None, "2.5.1+cu128"),  # left to requirements.txt: the resolver's choice
    ],
)
async def test_torch_builds(
    install_settings: Settings, torch: str, driver: DriverInfo | None, expected: str
) -> None:
    service = service_for(install_settings, detect_gpu=lambda: driver)
    events = await collect(service, "v0.4.0", torch)
    record = await service.get("v0.4.0")
    assert record is not None and record.torch_version == expected
    assert record.torch_backend == ("cu128" if torch == "auto" else torch)
    torch_steps = [e for e in events if isinstance(e, Progress) and e.step == "torch"]
    assert bool(torch_steps) == (torch != "none")


async def test_a_wheelhouse_without_the_asked_build_fails_clearly(
    data_dir: Path, tmp_path: Path, fake_upstream: Path
) -> None:
    cpu_only = build_wheelhouse(tmp_path / "wh", labels=["cpu"])
    service = service_for(install_settings_for(data_dir, fake_upstream, cpu_only))
    with pytest.raises(InstallError, match="not a cu126 build"):
        await collect(service, "v0.4.0", "cu126")
    nothing_left(data_dir, "v0.4.0")


async def test_a_missing_tag_leaves_nothing(install_settings: Settings, data_dir: Path) -> None:
    with pytest.raises(NotFoundError, match=r"no tag v9\.9\.9"):
        await collect(service_for(install_settings), "v9.9.9")
    nothing_left(data_dir, "v9.9.9")


async def test_an_unreachable_repository_is_a_network_error(
    data_dir: Path, tmp_path: Path, wheelhouse: Path
) -> None:
    settings = install_settings_for(data_dir, tmp_path / "nowhere" / "ComfyUI.git", wheelhouse)
    with pytest.raises(NetworkError, match="cannot clone ComfyUI"):
        await collect(service_for(settings), "v0.3.77")
    nothing_left(data_dir, "v0.3.77")
    assert [p.name for p in (data_dir / "mirrors").iterdir()] == ["ComfyUI.git.lock"]


@pytest.mark.slow
async def test_an_unreachable_index_fails_fast(
    data_dir: Path, fake_upstream: Path, wheelhouse: Path
) -> None:
    settings = Settings(
        data_dir=data_dir,
        comfyui_repo=fake_upstream.as_uri(),
        index_url="http://127.0.0.1:9/simple",  # discard port: connection refused
        python=sys.executable,
    )
    with pytest.raises(NetworkError, match="could not be reached"):
        await collect(service_for(settings), "v0.4.0", "cpu")
    nothing_left(data_dir, "v0.4.0")


@pytest.mark.parametrize("tag", ["../x", "v1;rm -rf ~", "", "-rf", "v1 2", "a/b"])
async def test_invalid_tags_are_refused_before_anything_runs(
    install_settings: Settings, data_dir: Path, tag: str
) -> None:
    from comfy_tui.errors import ValidationError

    with pytest.raises(ValidationError, match="version tag"):
        service_for(install_settings).install(tag)
    assert not data_dir.exists()


async def test_an_invalid_torch_value_is_refused_at_once(
    install_settings: Settings, data_dir: Path
) -> None:
    from comfy_tui.errors import ValidationError

    with pytest.raises(ValidationError, match="torch build"):
        service_for(install_settings).install("v0.4.0", "cuda")
    assert not data_dir.exists()


async def test_installing_twice_is_refused(install_settings: Settings) -> None:
    service = service_for(install_settings)
    await collect(service, "v0.4.0")
    with pytest.raises(InstallError, match="already installed"):
        await collect(service, "v0.4.0")


async def _until_smoke(events: object, seen: list[Event]) -> None:
    async for event in events:  # type: ignore[attr-defined]
        seen.append(event)


async def test_cancel_mid_install_leaves_nothing(
    install_settings: Settings, data_dir: Path
) -> None:
    service = service_for(install_settings)
    seen: list[Event] = []
    task = asyncio.create_task(_until_smoke(service.install("v0.5.0"), seen))

    def smoke_child() -> bool:  # the smoke child (main.py) is importing slowdep now
        running = processes_under(data_dir / "versions")
        return any("main.py" in " ".join(p.info["cmdline"] or []) for p in running)

    await until(None, lambda: task.done() or smoke_child(), "the smoke child")
    assert not task.done(), task
    assert service.installing() == {"v0.5.0"}
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    nothing_left(data_dir, "v0.5.0")
    assert service.installing() == frozenset()
    assert service.install_log("v0.5.0").read_text().splitlines()[-1] == "comfy-tui: cancelled"
    # the lock is free again: a new install of the tag is not refused as busy
    with pytest.raises(NotFoundError):
        await collect(service, "v0.5.0x")


async def test_a_second_install_of_the_same_tag_is_refused_while_one_runs(
    install_settings: Settings, data_dir: Path
) -> None:
    service = service_for(install_settings)
    other = service_for(install_settings)  # another front end on the same data dir
    seen: list[Event] = []
    task = asyncio.create_task(_until_smoke(service.install("v0.5.0"), seen))
    try:
        await until(None, lambda: seen, "the first event")
        with pytest.raises(LockBusyError, match=r"v0\.5\.0 is already being installed"):
            await collect(service, "v0.5.0")
        with pytest.raises(LockBusyError, match=r"v0\.5\.0 is already being installed"):
            await collect(other, "v0.5.0")
        with pytest.raises(LockBusyError, match="being installed, launched or removed"):
            await other.remove("v0.5.0")
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    nothing_left(data_dir, "v0.5.0")


async def test_remove_and_default(install_settings: Settings, data_dir: Path) -> None:
    running: dict[str, int] = {}
    service = service_for(install_settings, running=lambda: running)
    await collect(service, "v0.4.0")
    await service.set_default("v0.4.0")
    assert await service.get_default() == "v0.4.0"

    running["v0.4.0"] = 1
    with pytest.raises(VersionInUseError, match=r"v0\.4\.0 :8188, id fake0 is running"):
        await service.remove("v0.4.0")
    running.clear()

    await service.remove("v0.4.0")
    assert await service.get("v0.4.0") is None
    assert await service.get_default() is None
    assert list((data_dir / "versions").iterdir()) == []
    with pytest.raises(NotFoundError, match="not installed"):
        await service.remove("v0.4.0")
    with pytest.raises(NotFoundError, match="not installed"):
        await service.set_default("v0.4.0")


async def test_remove_refuses_while_an_instance_starts_says_so(
    install_settings: Settings,
) -> None:
    service = service_for(install_settings)
    await collect(service, "v0.4.0")
    service.guard = fake_guard(service.paths, {"v0.4.0": 1})
    with pytest.raises(VersionInUseError, match="stop it with: comfy-tui stop fake0"):
        await service.check_remove("v0.4.0")
    with pytest.raises(VersionInUseError, match="stop it with: comfy-tui stop fake0"):
        await service.remove("v0.4.0")


async def test_a_version_folder_without_record_is_debris(
    install_settings: Settings, data_dir: Path
) -> None:
    debris = data_dir / "versions" / "v0.4.0"
    (debris / "junk").mkdir(parents=True)
    service = service_for(install_settings)
    await collect(service, "v0.4.0")
    assert not (debris / "junk").exists()
    assert json.loads((data_dir / "metadata/versions/v0.4.0.json").read_text())["tag"] == "v0.4.0"
    assert os.access(debris / ".venv/bin/python", os.X_OK)


@pytest.mark.parametrize(
    ("tag", "error"),
    [
        (
            FakeTag("v0.6.0", files={"main.py": "import sys\nsys.exit(3)\n"}),
            r"smoke test main\.py --help failed \(exit 3\)",
        ),
        (
            FakeTag("v0.6.0", requirements="torch\nmissingdep\n"),
            r"installing requirements\.txt failed: .*missingdep",
        ),
    ],
)
async def test_a_failing_step_leaves_nothing(
    data_dir: Path, tmp_path: Path, wheelhouse: Path, tag: FakeTag, error: str
) -> None:
    upstream = build_comfyui_repo(tmp_path / "upstream", [tag])
    service = service_for(install_settings_for(data_dir, upstream, wheelhouse))
    with pytest.raises(InstallError, match=error):
        await collect(service, tag.name)
    nothing_left(data_dir, tag.name)
    last = service.install_log(tag.name).read_text().splitlines()[-1]
    assert last.startswith("comfy-tui: failed: ") and re.search(error, last)


async def test_clean_stale_at_start_up_spares_a_running_install(
    install_settings: Settings, data_dir: Path
) -> None:
    crashed = data_dir / "versions" / ".staging-v0.4.0-deadbeef"
    service = service_for(install_settings)
    seen: list[Event] = []
    task = asyncio.create_task(_until_smoke(service.install("v0.5.0"), seen))
    try:
        await until(None, lambda: any(isinstance(e, Progress) and e.step == "venv" for e in seen))
        (crashed / ".venv").mkdir(parents=True)  # as if another process had crashed
        removed = await service_for(install_settings).clean_stale()
        assert removed == [crashed]
        assert any(p.name.startswith(".staging-v0.5.0-") for p in (data_dir / "versions").iterdir())
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    nothing_left(data_dir, "v0.5.0")


async def test_two_versions_install_at_once(install_settings: Settings, data_dir: Path) -> None:
    service = service_for(install_settings)
    first, second = await asyncio.gather(
        collect(service, "v0.3.77"), collect(service, "v0.4.0", "cu128")
    )
    assert isinstance(first[-1], Finished) and isinstance(second[-1], Finished)
    clones = [line for line in logs(first + second, "git") if "into the shared mirror" in line]
    assert len(clones) == 1  # the second waited for the mirror instead of cloning again
    assert [r.tag for r in await service.installed()] == ["v0.4.0", "v0.3.77"]
    assert sorted(p.name for p in (data_dir / "versions").iterdir()) == ["v0.3.77", "v0.4.0"]

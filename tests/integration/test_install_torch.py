"""Where torch comes from and which build it is, against on-disk package indexes (no network).

- "PyTorch's index" is a file:// tree with one simple index per build (`pytorch_index`);
- the "registry" is a simple index without upload times, like a registry mirror, holding what
  PyPI has on Linux: an unlabelled torch that is really a CUDA 13.0 build.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from comfy_tui.errors import InstallError, NetworkError
from comfy_tui.events import Event, LogLine
from comfy_tui.paths import DataPaths
from comfy_tui.services.versions import VersionsService
from comfy_tui.settings import Settings
from tests.fakes.guards import real_guard
from tests.fakes.simple_index import build_simple_index, pytorch_like
from tests.fakes.wheelhouse import build_torch, build_torch_family, build_wheel

pytestmark = pytest.mark.usefixtures("no_leftover_children")


@pytest.fixture(scope="module")
def indexes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("indexes")
    plain = root / "plain"
    base = [build_wheel(plain, "tinydep", "1.0"), build_wheel(plain, "requests", "2.0")]
    builds = {}
    for label in ("cpu", "cu128"):
        folder = root / f"whl-{label}"
        build_torch_family(folder, label)
        builds[label] = sorted(folder.glob("*.whl"))
    pypi = root / "pypi"
    pypi_family = [
        build_torch(pypi, "2.6.0", cuda="13.0"),
        build_wheel(pypi, "torchvision", "0.21.0", requires=["torch==2.6.0"]),
        build_wheel(pypi, "torchaudio", "2.6.0", requires=["torch==2.6.0"]),
    ]
    cpu_only = root / "cpu-unlabelled"
    cpu_family = [
        build_torch(cpu_only, "2.6.0"),
        build_wheel(cpu_only, "torchvision", "0.21.0", requires=["torch==2.6.0"]),
        build_wheel(cpu_only, "torchaudio", "2.6.0", requires=["torch==2.6.0"]),
    ]
    mixed = root / "mixed"
    mixed_family = [
        build_torch(mixed, "2.5.1+cpu"),
        build_wheel(mixed, "torchvision", "0.20.1+cu128", requires=["torch==2.5.1"]),
        build_wheel(mixed, "torchaudio", "2.5.1+cpu", requires=["torch==2.5.1"]),
    ]
    return {
        "pytorch": pytorch_like(root / "pytorch", builds),
        "plain": build_simple_index(root / "simple-plain", base),
        "pypi": build_simple_index(root / "simple-pypi", [*base, *pypi_family]),
        "cpu": build_simple_index(root / "simple-cpu", [*base, *cpu_family]),
        "mixed": build_simple_index(root / "simple-mixed", [*base, *mixed_family]),
        "nowhere": (root / "no-such-index").as_uri(),
    }


def settings_for(
    data_dir: Path, upstream: Path, index: str, pytorch: str, **kw: object
) -> Settings:
    values: dict[str, object] = {
        "comfyui_repo": upstream.as_uri(),
        "index_url": index,
        "pytorch_index": pytorch,
        "python": sys.executable,
    }
    values.update(kw)
    return Settings(data_dir=data_dir, **values)  # type: ignore[arg-type]


def service_for(settings: Settings) -> VersionsService:
    paths = DataPaths(settings.data_dir)
    return VersionsService(settings, paths, guard=real_guard(paths), detect_gpu=lambda: None)


async def collect(
    service: VersionsService, tag: str, torch: str, torch_index: str | None = None
) -> list[Event]:
    return [e async for e in service.install(tag, torch, torch_index=torch_index)]


def logs(events: list[Event]) -> list[str]:
    return [e.text for e in events if isinstance(e, LogLine)]


def nothing_left(data_dir: Path) -> None:
    versions = data_dir / "versions"
    assert not versions.exists() or [p.name for p in versions.iterdir()] == []


@pytest.mark.parametrize(("torch", "build"), [("cpu", "CPU"), ("cu128", "CUDA 12.8")])
async def test_torch_comes_from_pytorchs_index_for_the_backend(
    data_dir: Path, fake_upstream: Path, indexes: dict[str, str], torch: str, build: str
) -> None:
    service = service_for(
        settings_for(data_dir, fake_upstream, indexes["plain"], indexes["pytorch"])
    )
    events = await collect(service, "v0.4.0", torch)
    record = await service.get("v0.4.0")
    assert record is not None
    assert (record.torch_version, record.torch_build) == (f"2.5.1+{torch}", build)
    assert record.torch_index == f"{indexes['pytorch']}/{torch}"  # custom nodes reuse it
    lines = logs(events)
    assert any(line.startswith("torch from PyTorch's index file://") for line in lines)
    assert any(line.startswith("resolved torch 2.5.1+" + torch) for line in lines)
    assert f"torch build: torch 2.5.1+{torch}: a {build} build" in lines


async def test_an_unreachable_pytorch_index_fails_at_once_naming_the_setting(
    data_dir: Path, fake_upstream: Path, indexes: dict[str, str]
) -> None:
    service = service_for(
        settings_for(data_dir, fake_upstream, indexes["pypi"], indexes["nowhere"])
    )
    with pytest.raises(NetworkError, match=r"not reachable .*set torch_index_url") as info:
        await collect(service, "v0.4.0", "cu128")
    assert "\n" not in str(info.value)
    nothing_left(data_dir)


async def test_cpu_falls_back_to_the_package_sources_and_accepts_their_cuda_build(
    data_dir: Path, fake_upstream: Path, indexes: dict[str, str]
) -> None:
    service = service_for(
        settings_for(data_dir, fake_upstream, indexes["pypi"], indexes["nowhere"])
    )
    events = await collect(service, "v0.4.0", "cpu")
    lines = logs(events)
    assert any("is not reachable" in line and "package sources instead" in line for line in lines)
    assert any("CUDA 13.0 build; it runs on the CPU too" in line for line in lines)
    record = await service.get("v0.4.0")
    assert record is not None and record.torch_index == ""  # the configured sources
    assert (record.torch_version, record.torch_build) == (
        "2.6.0",
        "CUDA 13.0",
    )


async def test_cu130_accepts_a_cuda_13_build_without_a_label(
    data_dir: Path, fake_upstream: Path, indexes: dict[str, str]
) -> None:
    service = service_for(
        settings_for(data_dir, fake_upstream, indexes["pypi"], indexes["nowhere"])
    )
    await collect(service, "v0.4.0", "cu130", torch_index="sources")
    record = await service.get("v0.4.0")
    assert record is not None and record.torch_build == "CUDA 13.0"
    pins = (Path(record.path) / ".venv" / "comfy-tui-constraints.txt").read_text()
    assert "torch==2.6.0" in pins and "torchvision==0.21.0" in pins


async def test_a_cpu_build_is_refused_when_cuda_was_asked(
    data_dir: Path, fake_upstream: Path, indexes: dict[str, str]
) -> None:
    settings = settings_for(
        data_dir,
        fake_upstream,
        indexes["plain"],
        indexes["nowhere"],
        torch_index_url=indexes["cpu"],
    )
    with pytest.raises(InstallError, match=r"torch 2\.6\.0 is a CPU build, not the cu128 build"):
        await collect(service_for(settings), "v0.4.0", "cu128")
    nothing_left(data_dir)


async def test_a_mixed_family_is_refused_before_downloading(
    data_dir: Path, fake_upstream: Path, indexes: dict[str, str]
) -> None:
    service = service_for(
        settings_for(data_dir, fake_upstream, indexes["plain"], indexes["nowhere"])
    )
    with pytest.raises(InstallError, match=r"mixed family .*refused before downloading"):
        await collect(service, "v0.4.0", "cpu", torch_index=indexes["mixed"])
    site = (
        list((data_dir / "cache" / "uv").glob("**/torchvision*"))
        if (data_dir / "cache").exists()
        else []
    )
    assert site == []  # nothing of the family was fetched
    nothing_left(data_dir)


async def test_an_old_tag_on_an_index_without_upload_times_exempts_those_packages(
    data_dir: Path, fake_upstream: Path, indexes: dict[str, str]
) -> None:
    service = service_for(
        settings_for(data_dir, fake_upstream, indexes["plain"], indexes["pytorch"])
    )
    events = await collect(service, "v0.3.60", "cpu")
    lines = logs(events)
    assert any("no upload time for tinydep" in line for line in lines)
    retry = [line for line in lines if line.startswith("$ ") and "requirements" in line][-1]
    assert "--exclude-newer-package tinydep=false" in retry
    record = await service.get("v0.3.60")
    assert record is not None
    assert (
        record.resolution.startswith("as of 2021-03-02, except ") and "tinydep" in record.resolution
    )

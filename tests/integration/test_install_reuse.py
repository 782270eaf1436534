"""A second version reuses the first one's byte code and checks, and progress never sits still."""

from __future__ import annotations

import re
import sys
from contextlib import aclosing
from pathlib import Path

import pytest

from comfy_tui.events import LogLine, Progress
from comfy_tui.paths import DataPaths
from comfy_tui.services.versions import VersionsService
from comfy_tui.settings import Settings
from tests.fakes.comfyui_repo import FakeTag, build_comfyui_repo
from tests.fakes.guards import real_guard
from tests.fakes.install_fixtures import install_settings_for

pytestmark = pytest.mark.usefixtures("no_leftover_children")

TAG = f"cpython-{sys.version_info[0]}{sys.version_info[1]}"


def service_for(settings: Settings) -> VersionsService:
    paths = DataPaths(settings.data_dir)
    return VersionsService(settings, paths, guard=real_guard(paths), detect_gpu=lambda: None)


def pyc(root: Path, relative: str) -> Path:
    source = root / relative
    return source.parent / "__pycache__" / f"{source.stem}.{TAG}.pyc"


def site(version: Path) -> Path:
    (found,) = (version / ".venv").glob("lib/python*/site-packages")
    return found


async def test_a_second_version_reuses_byte_code_and_the_quick_test(
    data_dir: Path, tmp_path: Path, wheelhouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")  # as on many boxes: handled
    upstream = build_comfyui_repo(tmp_path / "up", [FakeTag("v0.4.0"), FakeTag("v0.4.1")])
    service = service_for(install_settings_for(data_dir, upstream, wheelhouse))
    first = [e async for e in service.install("v0.4.0", "cpu")]
    one = data_dir / "versions" / "v0.4.0"
    record = await service.get("v0.4.0")
    assert record is not None and record.smoke == "quick test passed"
    assert pyc(site(one), "tinydep/__init__.py").is_file()  # written by the quick test
    assert pyc(one, "main.py").is_file()  # ComfyUI's own files: compiled by the install
    assert any(isinstance(e, Progress) and e.step == "compile" for e in first)

    second = [e async for e in service.install("v0.4.1", "cpu")]
    two = data_dir / "versions" / "v0.4.1"
    lines = [e.text for e in second if isinstance(e, LogLine)]
    assert "the same torch files as v0.4.0: CPU build" in lines
    assert "the same packages passed v0.4.0's quick test: not repeating it" in lines
    reused = [line for line in lines if line.startswith("byte code: ")]
    assert reused and not reused[0].startswith("byte code: 0 of")
    for relative in ("tinydep/__init__.py", "torch/__init__.py"):
        assert pyc(site(two), relative).stat().st_ino == pyc(site(one), relative).stat().st_ino
    assert pyc(two, "main.py").stat().st_ino == pyc(one, "main.py").stat().st_ino  # same text
    assert pyc(two, "comfyui_version.py").is_file()  # differs per tag: compiled
    assert (
        pyc(two, "comfyui_version.py").stat().st_ino != pyc(one, "comfyui_version.py").stat().st_ino
    )
    again = await service.get("v0.4.1")
    assert again is not None and again.smoke == "packages quick-tested in v0.4.0"
    assert again.torch_build == "CPU"


async def test_progress_keeps_coming_while_a_step_is_quiet(install_settings: Settings) -> None:
    service = service_for(install_settings)
    quiet: list[Progress] = []
    async with aclosing(service.install("v0.5.0", "cpu")) as events:  # its quick test hangs
        async for event in events:
            if isinstance(event, Progress) and event.detail.startswith("main.py --quick-test"):
                quiet.append(event)
                if len(quiet) == 4:
                    break
    quiet = quiet[1:]  # the step's own start, then what came while the child said nothing
    assert all(p.step == "smoke" and re.search(r" \(\d+s\)$", p.detail) for p in quiet), quiet
    assert quiet[0].fraction < quiet[1].fraction < quiet[2].fraction < 1.0

"""Every launched version sees the library: its generated extra_model_paths.yaml is passed at
launch, and a running ComfyUI's `/internal/folder_paths` is checked against the library."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from comfy_tui.events import Finished, LogLine
from comfy_tui.services.instances.launch import LaunchRequest
from comfy_tui.services.instances.service import InstancesService
from comfy_tui.services.library.mapping import expected_folder_paths, wiring_problems
from comfy_tui.services.library.service import LibraryService
from comfy_tui.store.instance_records import require_instance
from tests.fakes import models as fm
from tests.fakes.instance_lab import Lab


@pytest.fixture
async def lab(tmp_path: Path) -> AsyncIterator[Lab]:
    lab = Lab(tmp_path)
    try:
        yield lab
    finally:
        await lab.cleanup()


def wired_service(lab: Lab) -> tuple[InstancesService, LibraryService]:
    library = LibraryService(lab.settings, lab.paths)
    return (
        lab.service(
            model_paths=library.write_extra_model_paths,
            wiring=lambda reported: wiring_problems(reported, library.roots()),
        ),
        library,
    )


async def launch(svc: InstancesService, env: dict[str, str]) -> tuple[list[str], str]:
    events = [e async for e in svc.launch(LaunchRequest(env=env))]
    assert isinstance(events[-1], Finished), events
    instance_id = events[0].source if isinstance(events[0], LogLine) else ""
    warnings = [
        e.text
        for e in events
        if isinstance(e, LogLine) and e.text.startswith("model library wiring")
    ]
    argv = require_instance(svc.paths, instance_id).argv
    return warnings, " ".join(argv)


async def test_launch_passes_the_generated_config_and_a_good_wiring_is_quiet(lab: Lab) -> None:
    svc, library = wired_service(lab)
    reported = expected_folder_paths(library.roots())
    warnings, argv = await launch(svc, {"FAKE_COMFYUI_FOLDER_PATHS": json.dumps(reported)})
    config = lab.paths.model_paths_config(lab.version.tag)
    assert f"--extra-model-paths-config {config}" in argv
    assert "is_default: true" in config.read_text()
    assert warnings == []


async def test_a_version_that_does_not_see_the_library_is_reported(lab: Lab) -> None:
    svc, _ = wired_service(lab)
    reported = {"checkpoints": [["/elsewhere/checkpoints"], [".safetensors"]]}
    warnings, _ = await launch(svc, {"FAKE_COMFYUI_FOLDER_PATHS": json.dumps(reported)})
    assert len(warnings) == 1
    assert "checkpoints: ComfyUI does not search the library" in warnings[0]


async def test_an_old_version_without_the_route_is_not_a_problem(lab: Lab) -> None:
    svc, _ = wired_service(lab)
    warnings, _ = await launch(svc, {})
    assert warnings == []


async def test_symlink_mode_links_the_library_into_the_version(tmp_path: Path) -> None:
    lab = Lab(tmp_path)
    lab.settings = lab.settings._replace(model_mapping="symlinks")
    try:
        library = LibraryService(lab.settings, lab.paths)
        model = lab.paths.library_models() / "checkpoints" / "dream.safetensors"
        fm.write_safetensors(model, fm.sd15_checkpoint())
        async for _ in library.scan():
            pass
        svc = lab.service(model_paths=library.map_into_version)
        warnings, argv = await launch(svc, {})
        link = Path(lab.version.path) / "models" / "checkpoints" / "dream.safetensors"
        assert link.is_symlink() and link.resolve() == model.resolve()
        assert not Path(os.readlink(link)).is_absolute(), "links are relative"
        assert "--extra-model-paths-config" not in argv
        assert warnings == []
    finally:
        await lab.cleanup()

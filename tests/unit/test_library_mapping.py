"""The generated extra_model_paths.yaml: parsed back the way ComfyUI's loader reads it."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from comfy_tui.errors import ValidationError
from comfy_tui.paths import DataPaths
from comfy_tui.services.library.mapping import (
    SECTION,
    expected_folder_paths,
    render_extra_model_paths,
    wiring_problems,
    write_extra_model_paths,
)


def read_tiny_yaml(text: str) -> dict[str, dict[str, object]]:
    """Just enough YAML for our file: sections, `key: value` and `key: |` literal blocks."""
    sections: dict[str, dict[str, object]] = {}
    section: dict[str, object] = {}
    block: str | None = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip(" "))
        if indent == 0:
            section = sections.setdefault(line.rstrip(":"), {})
            block = None
        elif indent == 2:
            key, _, value = line.strip().partition(":")
            value = value.strip()
            if value == "|":
                block = key
                section[key] = ""
            else:
                block = None
                section[key] = {"true": True, "false": False}.get(value, value)
        else:
            assert block is not None and indent == 4, line
            section[block] = str(section[block]) + line[4:] + "\n"
    return sections


def comfyui_search_order(config: dict[str, dict[str, object]]) -> dict[str, list[str]]:
    """What ComfyUI's utils/extra_config.py + add_model_folder_path make of the file."""
    order: dict[str, list[str]] = {}
    for conf in config.values():
        conf = dict(conf)
        is_default = bool(conf.pop("is_default", False))
        for folder, value in conf.items():
            for line in str(value).split("\n"):
                if not line:
                    continue
                paths = order.setdefault(folder, [])
                if is_default:
                    paths.insert(0, os.path.normpath(line))
                else:
                    paths.append(os.path.normpath(line))
    return order


def test_yaml_lists_every_root_per_folder_main_first(tmp_path: Path) -> None:
    main, extra = tmp_path / "lib" / "models", tmp_path / "disk two: #1 ü"
    (extra / "my_kind").mkdir(parents=True)
    text = render_extra_model_paths([main, extra], "v0.3.77")
    config = read_tiny_yaml(text)
    assert list(config) == [SECTION]
    assert config[SECTION]["is_default"] is True
    order = comfyui_search_order(config)
    assert order["checkpoints"] == [str(main / "checkpoints"), str(extra / "checkpoints")]
    assert order["diffusion_models"] == [
        str(main / "diffusion_models"),
        str(main / "unet"),
        str(extra / "diffusion_models"),
        str(extra / "unet"),
    ]
    assert order["text_encoders"][:2] == [str(main / "text_encoders"), str(main / "clip")]
    assert order["my_kind"] == [str(main / "my_kind"), str(extra / "my_kind")]
    assert expected_folder_paths([main, extra])["checkpoints"] == order["checkpoints"]


def test_yaml_parses_the_same_with_pyyaml(tmp_path: Path) -> None:
    yaml = pytest.importorskip("yaml")
    text = render_extra_model_paths([tmp_path / "a b", tmp_path / "c: #d"], "v1")
    assert yaml.safe_load(text) == read_tiny_yaml(text)


def test_roots_that_would_break_the_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationError):
        render_extra_model_paths([tmp_path / "bad\nname"], "v1")
    with pytest.raises(ValidationError):
        render_extra_model_paths([Path("relative")], "v1")


def test_written_under_the_data_dir_atomically(tmp_path: Path) -> None:
    paths = DataPaths(tmp_path / "data")
    roots = [paths.library_models()]
    target = write_extra_model_paths(paths, "v0.3.77", roots)
    assert target == paths.root / "metadata" / "model_paths" / "v0.3.77.yaml"
    assert target.read_text() == render_extra_model_paths(roots, "v0.3.77")
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in target.parent.iterdir()] == ["v0.3.77.yaml"]
    with pytest.raises(ValidationError):
        write_extra_model_paths(paths, "../evil", roots)


def test_wiring_problems_name_what_comfyui_does_not_search(tmp_path: Path) -> None:
    main = tmp_path / "models"
    good = {"checkpoints": [str(main / "checkpoints"), "/x/models/checkpoints"]}
    assert wiring_problems(good, [main]) == []
    bad = {"checkpoints": [["/x/models/checkpoints"], [".safetensors"]], "loras": []}
    problems = wiring_problems(bad, [main])
    assert len(problems) == 2
    assert problems[0].startswith("checkpoints: ComfyUI does not search the library")

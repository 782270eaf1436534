"""The launch's output folder: named by `--output-directory` (either spelling, the last wins),
created relative to ComfyUI's working folder; a file there is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from comfy_tui.errors import ValidationError
from comfy_tui.services.instances.output_folder import make_output_folder, output_dir_args


def test_created_relative_to_comfyuis_folder_and_the_last_flag_wins(tmp_path: Path) -> None:
    argv = ["python", "main.py", "--output-directory", "a", "--output-directory=out/b"]
    assert make_output_folder(argv, str(tmp_path)) == tmp_path / "out" / "b"
    assert (tmp_path / "out" / "b").is_dir() and not (tmp_path / "a").exists()
    assert make_output_folder(["python", "main.py"], str(tmp_path)) is None


def test_a_file_there_is_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    with pytest.raises(ValidationError, match="not a folder"):
        make_output_folder(["--output-directory", str(tmp_path / "f")], "/")


def test_the_clis_output_dir_is_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert output_dir_args("renders") == ("--output-directory", str(tmp_path / "renders"))
    assert output_dir_args(None) == ()
    assert not (tmp_path / "renders").exists()  # the launch creates it, not the parsing

"""User input echoed in an error message cannot carry terminal control codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from comfy_tui.core.safe_text import escape_text


def test_printable_text_is_unchanged() -> None:
    assert escape_text("v0.3.77 — ünïcode path/x y") == "v0.3.77 — ünïcode path/x y"


def test_controls_format_and_separator_characters_are_escaped() -> None:
    assert escape_text("a\x1b[31mb\nc\td\x7f") == "a\\x1b[31mb\\x0ac\\x09d\\x7f"
    assert escape_text("evil\u202etxt.exe") == "evil\\u202etxt.exe"
    assert escape_text("x\u2028y\U000e0041") == "x\\u2028y\\U000e0041"


def test_the_cli_escapes_user_input_in_its_error_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "comfy_tui", "--data-dir", str(tmp_path / "d"), "models",
         "import", str(tmp_path / "no\x1b]0;pwned\x07such\nfile")],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "\x1b" not in line and "\x07" not in line
    assert "no\\x1b]0;pwned\\x07such\\x0afile" in line

"""Which requirement lines a custom node may use: refused lines are quoted with their reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from comfy_tui.core.req_policy import (
    DIRECT_REASON,
    EDITABLE_REASON,
    OPTION_REASON,
    OUTSIDE_REASON,
    SOURCE_REASON,
    URL_REASON,
    RequirementsRefused,
    check_requirements,
    logical_lines,
)
from comfy_tui.errors import ValidationError

ROOT = Path("/nodes/Thing")


def refused(text: str, files: dict[str, str] | None = None) -> list[tuple[int, str, str]]:
    contents = {ROOT / "requirements.txt": text}
    contents.update({ROOT / k: v for k, v in (files or {}).items()})

    def read(path: Path) -> str:
        try:
            return contents[Path(str(path).replace("/./", "/"))]
        except KeyError:
            raise FileNotFoundError(2, "No such file or directory") from None

    lines = check_requirements(ROOT / "requirements.txt", ROOT, read)
    return [(r.number, r.text, r.reason) for r in lines]


def test_plain_requirements_pass() -> None:
    text = (
        "numpy>=1.25\n# a comment\nopencv-python  # cv\n\nPillow[extra]==10 ; python_version>'3'\n"
        "safetensors==0.4 --hash=sha256:abc \\\n    --hash=sha256:def\n"
    )
    assert refused(text) == []


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("evilpkg @ file:///tmp/evilpkg-1.0.tar.gz", DIRECT_REASON),
        ("evilpkg@https://example.com/evil.whl", DIRECT_REASON),
        ("evil[x] @ https://example.com/evil.tar.gz", DIRECT_REASON),
        ("git+https://github.com/x/evil", URL_REASON),
        ("https://example.com/evil-1.0-py3-none-any.whl", URL_REASON),
        ("./vendor/evil.tar.gz", URL_REASON),
        ("evil-1.0.tar.gz", URL_REASON),
        ("-e .", EDITABLE_REASON),
        ("--editable=git+https://x/y", EDITABLE_REASON),
        ("--index-url https://evil.example/simple", SOURCE_REASON),
        ("-i https://evil.example/simple", SOURCE_REASON),
        ("--extra-index-url=https://evil.example/simple", SOURCE_REASON),
        ("-f https://evil.example/wheels", SOURCE_REASON),
        ("--find-links /tmp", SOURCE_REASON),
        ("--trusted-host evil.example", SOURCE_REASON),
        ("--no-binary :all:", OPTION_REASON),
        ("numpy --config-settings=x=y", OPTION_REASON),
        ("-r ../other/requirements.txt", OUTSIDE_REASON),
        ("--constraint=/etc/c.txt", OUTSIDE_REASON),
    ],
)
def test_refused_lines_are_quoted_with_their_reason(line: str, reason: str) -> None:
    assert refused(f"numpy\n{line}\n") == [(2, line, reason)]


def test_nested_files_inside_the_folder_are_checked_too() -> None:
    files = {"extra.txt": "ok-package\n-r requirements.txt\n--index-url https://x/simple\n"}
    assert refused("-r extra.txt\nnumpy\n", files) == [
        (3, "--index-url https://x/simple", SOURCE_REASON)
    ]
    with pytest.raises(ValidationError, match=r"cannot read 'missing\.txt'"):
        refused("-r missing.txt\n")


def test_logical_lines_join_continuations_and_cut_comments() -> None:
    assert logical_lines("a \\\n  b # c\n#x\nurl#frag\n") == [(1, "a    b"), (4, "url#frag")]


def test_the_refusal_names_every_line_and_the_way_on() -> None:
    text = "evilpkg @ file:///tmp/e.tar.gz\n-i https://x/simple\n"
    contents = {ROOT / "requirements.txt": text}
    lines = check_requirements(ROOT / "requirements.txt", ROOT, contents.__getitem__)
    error = RequirementsRefused("Thing", lines)
    message = str(error)
    assert "Thing/requirements.txt line 1: 'evilpkg @ file:///tmp/e.tar.gz'" in message
    assert "line 2: '-i https://x/simple'" in message
    assert message.endswith("--allow-direct-refs goes on anyway") and "\n" not in message
    assert error.exit_code == 2

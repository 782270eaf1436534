"""Weighted install progress, git's progress lines, `main.py --help` flags. Pure."""

from __future__ import annotations

import pytest

from comfy_tui.core.install_progress import (
    STEP_WEIGHTS,
    STEPS,
    git_fraction,
    overall_fraction,
    parse_comfyui_version,
    parse_help_flags,
)


def test_weights_cover_the_whole_install() -> None:
    assert set(STEP_WEIGHTS) == set(STEPS)
    assert sum(STEP_WEIGHTS.values()) == pytest.approx(1.0)


def test_overall_fraction_grows_step_by_step() -> None:
    points = [overall_fraction(step, f) for step in STEPS for f in (0.0, 0.5, 1.0)]
    assert points == sorted(points)
    assert points[0] == 0.0
    assert points[-1] == pytest.approx(1.0)
    assert overall_fraction("venv", 0.0) == pytest.approx(STEP_WEIGHTS["clone"])
    assert overall_fraction("clone", 7.0) == pytest.approx(STEP_WEIGHTS["clone"])


def test_unknown_step() -> None:
    with pytest.raises(ValueError, match="unknown install step"):
        overall_fraction("dance", 0.5)


@pytest.mark.parametrize(
    ("line", "fraction"),
    [
        ("remote: Counting objects:  50% (2/4)", 0.01),
        ("Receiving objects:   0% (0/1000)", 0.05),
        ("Receiving objects: 100% (1000/1000), 1.2 MiB | 3.0 MiB/s, done.", 0.80),
        ("Resolving deltas:  40% (4/10)", 0.86),
        ("Updating files: 100% (3/3), done.", 1.0),
        ("Cloning into 'x'...", None),
        ("remote: Enumerating objects: 8, done.", None),
        ("warning: something 50% odd", None),
    ],
)
def test_git_progress_lines(line: str, fraction: float | None) -> None:
    got = git_fraction(line)
    if fraction is None:
        assert got is None
    else:
        assert got == pytest.approx(fraction)


HELP = """\
usage: main.py [-h] [--listen [IP]] [--port PORT] [--tls-keyfile TLS_KEYFILE]
               [--cuda-device DEVICE_ID] [--cpu | --lowvram]
               [--extra-model-paths-config PATH [PATH ...]]

options:
  -h, --help            show this help message and exit
  --listen [IP]         Specify the IP address to listen on (default: 127.0.0.1).
                        You can give a list of ip addresses by separating them
                        with a comma like: 127.2.2.2,127.3.3.3 --not-a-flag
  --port PORT           Set the listen port.
  --tls-keyfile TLS_KEYFILE
                        Path to TLS key file, enables TLS, makes app accessible
                        at https://... requires --tls-certfile to function
  --cuda-device DEVICE_ID
                        Set the id of the cuda device this instance will use.
  --cpu                 To use the CPU for everything (slow).
  --lowvram             Split the unet in parts to use less vram.
  --extra-model-paths-config PATH [PATH ...]
                        Load one or more extra_model_paths.yaml files.
  --quick-test-for-ci   Quick test for CI.
"""


def test_help_flags_are_the_option_lines_only() -> None:
    assert parse_help_flags(HELP) == (
        "--cpu",
        "--cuda-device",
        "--extra-model-paths-config",
        "--help",
        "--listen",
        "--lowvram",
        "--port",
        "--quick-test-for-ci",
        "--tls-keyfile",
    )


def test_help_flags_of_nothing() -> None:
    assert parse_help_flags("") == ()


@pytest.mark.parametrize(
    ("source", "version"),
    [
        ('# auto-generated\n__version__ = "0.3.77"\n', "0.3.77"),
        ("__version__: str = '0.45.2'\n", "0.45.2"),
        ("VERSION = '1'\n", ""),
    ],
)
def test_comfyui_version_is_read_not_executed(source: str, version: str) -> None:
    assert parse_comfyui_version(source) == version

"""The uv/pip command lines an install runs, and the rules behind their options. Pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from comfy_tui.core import install_plan as plan

WH = "file:///srv/wheel%20house"
PY = Path("/v/.venv/bin/python")
CACHE = Path("/data/cache/uv")


def test_no_sources_configured_means_default_index_and_no_flags() -> None:
    sources = plan.Sources()
    assert not sources.configured and not sources.air_gapped
    assert sources.args() == []


def test_a_wheelhouse_alone_means_no_index_at_all() -> None:
    sources = plan.Sources(find_links=(WH,))
    assert sources.air_gapped
    assert sources.args() == ["--no-index", "--find-links", "/srv/wheel house"]
    assert sources.local_dirs() == [Path("/srv/wheel house")]


def test_index_and_extras_and_links_are_all_passed() -> None:
    sources = plan.Sources(
        "https://mirror.example/simple", ("https://extra.example/simple",), (WH,)
    )
    assert not sources.air_gapped
    assert sources.args() == [
        "--index-url",
        "https://mirror.example/simple",
        "--extra-index-url",
        "https://extra.example/simple",
        "--find-links",
        "/srv/wheel house",
    ]


def test_uv_torch_uses_its_own_backend_routing_without_configured_sources() -> None:
    argv = plan.uv_install_argv(
        "uv", PY, CACHE, plan.Sources(), packages=plan.TORCH_FAMILY, torch_backend="cu128"
    )
    assert argv[:3] == ["uv", "pip", "install"]
    assert "--torch-backend" in argv and argv[argv.index("--torch-backend") + 1] == "cu128"
    for flag in ("--no-config", "--compile-bytecode"):
        assert flag in argv
    assert argv[argv.index("--link-mode") + 1] == "hardlink"
    assert argv[argv.index("--cache-dir") + 1] == str(CACHE)
    assert argv[-3:] == ["torch", "torchvision", "torchaudio"]


def test_uv_torch_comes_from_configured_sources_when_there_are_some() -> None:
    argv = plan.uv_install_argv(
        "uv", PY, CACHE, plan.Sources(find_links=(WH,)), packages=["torch"], torch_backend="cpu"
    )
    assert "--torch-backend" not in argv
    assert "--no-index" in argv


def test_pip_torch_uses_exactly_one_pytorch_index() -> None:
    argv = plan.pip_install_argv(
        PY,
        CACHE,
        plan.Sources(),
        packages=plan.TORCH_FAMILY,
        index_args=plan.torch_index_args(
            plan.Sources(), "https://download.pytorch.org/whl/cpu", "pip"
        ),
    )
    assert argv[argv.index("--index-url") + 1] == "https://download.pytorch.org/whl/cpu"
    assert argv.count("--index-url") == 1
    assert "--extra-index-url" not in argv
    assert argv[argv.index("--retries") + 1] == "1"


def test_requirements_with_constraints_and_exclude_newer() -> None:
    when = datetime(2025, 3, 1, 12, tzinfo=UTC)
    argv = plan.uv_install_argv(
        "uv",
        PY,
        CACHE,
        plan.Sources(),
        packages=["requests"],
        requirements=Path("/v/requirements.txt"),
        constraints=Path("/v/.venv/c.txt"),
        torch_backend="cpu",
        exclude_newer=when,
    )
    assert argv[argv.index("--exclude-newer") + 1] == "2025-03-01T12:00:00Z"
    assert argv[-5:] == ["requests", "-r", "/v/requirements.txt", "-c", "/v/.venv/c.txt"]


def test_torch_none_gets_no_backend() -> None:
    argv = plan.uv_install_argv("uv", PY, CACHE, plan.Sources(), torch_backend="none")
    assert "--torch-backend" not in argv


def test_venv_commands() -> None:
    assert plan.uv_venv_argv("uv", "/usr/bin/python3", Path("/v/.venv")) == [
        "uv",
        "venv",
        "--no-config",
        "--relocatable",
        "--python",
        "/usr/bin/python3",
        "/v/.venv",
    ]
    assert plan.pip_venv_argv("/usr/bin/python3", Path("/v/.venv")) == [
        "/usr/bin/python3",
        "-m",
        "venv",
        "/v/.venv",
    ]


NOW = datetime(2026, 11, 27, tzinfo=UTC)


def test_exclude_newer_applies_only_to_old_tags() -> None:
    old = NOW - timedelta(days=200)
    assert plan.exclude_newer_date(old, NOW, 90) == old + timedelta(days=1)
    assert plan.exclude_newer_date(NOW - timedelta(days=10), NOW, 90) is None
    assert plan.exclude_newer_date(old, NOW, 0) is None
    assert plan.exclude_newer_date(None, NOW, 90) is None


@pytest.mark.parametrize(
    ("tag", "missing"),
    [("v0.3.64", ("requests",)), ("v0.3.77", ("requests",)), ("v0.4.0", ()), ("v0.45.2", ())],
)
def test_known_missing_dependencies_of_old_tags(tag: str, missing: tuple[str, ...]) -> None:
    assert plan.known_missing(tag) == missing


def test_known_missing_of_a_tag_that_is_no_version() -> None:
    assert plan.known_missing("nightly") == ()


def test_pick_torch_version_matches_the_local_label() -> None:
    names = [
        "torch-2.5.1+cpu-cp311-cp311-linux_x86_64.whl",
        "torch-2.6.0%2Bcpu-cp311-cp311-linux_x86_64.whl",
        "torch-2.6.0+cu128-cp311-cp311-linux_x86_64.whl",
        "torch-2.7.0-cp311-cp311-linux_x86_64.whl",
        "torchvision-0.22.0+cpu-cp311-cp311-linux_x86_64.whl",
        "torch-2.10.0+cpu-py3-none-any.whl",
    ]
    assert plan.pick_torch_version(names, "cpu") == "2.10.0+cpu"
    assert plan.pick_torch_version(names, "cu128") == "2.6.0+cu128"
    assert plan.pick_torch_version(names, "cu126") is None


def test_constraints_pin_the_exact_builds() -> None:
    text = plan.constraints_text({"torch": "2.5.1+cpu", "torchvision": "0.20.1+cpu", "x": "1"})
    assert "torch==2.5.1+cpu\n" in text
    assert "torchvision==0.20.1+cpu\n" in text
    assert "torchaudio" not in text and "x==" not in text


def test_local_label() -> None:
    assert plan.local_label("2.5.1+CU128") == "cu128"
    assert plan.local_label("2.5.1") == ""

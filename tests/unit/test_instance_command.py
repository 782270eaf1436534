"""ComfyUI's command line per version: only accepted flags, GPU or CPU, our own DB and temp."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from comfy_tui.errors import ValidationError
from comfy_tui.services.instances.command import build_command, port_in_argv
from comfy_tui.store.version_records import VersionRecord

ALL = (
    "--listen",
    "--port",
    "--disable-auto-launch",
    "--cpu",
    "--cuda-device",
    "--database-url",
    "--temp-directory",
    "--user-directory",
    "--extra-model-paths-config",
    "--lowvram",
)


def version(flags: tuple[str, ...] = ALL) -> VersionRecord:
    return VersionRecord(tag="v1", path="/v/v1", python="/v/v1/.venv/bin/python", flags=flags)


def build(flags: tuple[str, ...] = ALL, **kw: object) -> tuple[list[str], dict[str, str]]:
    args: dict[str, object] = {
        "port": 8190,
        "listen": "127.0.0.1",
        "gpu": None,
        "gpu_count": 0,
        "instance_dir": Path("/d/instances/c1"),
    }
    args.update(kw)
    cmd = build_command(version(flags), **args)  # type: ignore[arg-type]
    return list(cmd.argv), cmd.env


def test_cpu_box_gets_cpu_and_own_database_and_temp() -> None:
    argv, env = build()
    assert argv[:2] == ["/v/v1/.venv/bin/python", "/v/v1/main.py"]
    assert argv[2:7] == ["--listen", "127.0.0.1", "--port", "8190", "--disable-auto-launch"]
    assert "--cpu" in argv and "--cuda-device" not in argv
    assert "sqlite:////d/instances/c1/comfyui.db" in argv
    assert argv[argv.index("--temp-directory") + 1] == "/d/instances/c1"
    assert env["__COMFY_CLI_SESSION__"] == "/d/instances/c1/session"
    assert env["PYTHONUNBUFFERED"] == "1" and "CUDA_VISIBLE_DEVICES" not in env


def test_gpu_by_flag_or_by_environment() -> None:
    argv, env = build(gpu=1, gpu_count=2)
    assert argv[argv.index("--cuda-device") + 1] == "1" and "--cpu" not in argv
    no_flag = tuple(f for f in ALL if f != "--cuda-device")
    argv, env = build(no_flag, gpu=1, gpu_count=2)
    assert env["CUDA_VISIBLE_DEVICES"] == "1" and "--cuda-device" not in argv


def test_only_accepted_flags_are_passed() -> None:
    argv, _ = build(("--listen", "--port", "--user-directory"))
    assert argv[2:] == [
        "--listen",
        "127.0.0.1",
        "--port",
        "8190",
        "--user-directory",
        "/d/instances/c1/user",
    ]
    argv, _ = build(())  # unknown flag list: only what every ComfyUI has
    assert argv[2:] == ["--listen", "127.0.0.1", "--port", "8190"]


def test_model_paths_config_once_it_exists() -> None:
    argv, _ = build(model_paths_config=Path("/d/library/extra_model_paths.yaml"))
    assert argv[-2:] == ["--extra-model-paths-config", "/d/library/extra_model_paths.yaml"]


def test_extra_args_are_checked() -> None:
    argv, _ = build(extra_args=["--lowvram"])
    assert argv[-1] == "--lowvram" and "--cpu" not in argv, "--cpu and --lowvram exclude"
    with pytest.raises(ValidationError, match="has no flag `--bogus`"):
        build(extra_args=["--bogus"])
    with pytest.raises(ValidationError, match="use the port option"):
        build(extra_args=["--port=9000"])
    with pytest.raises(ValidationError, match="use the GPU option"):
        build(extra_args=["--cuda-device", "1"])
    argv, env = build(extra_args=["--lowvram"], user_env={"HF_HOME": "/h"})
    assert env["HF_HOME"] == "/h"
    argv, _ = build((), extra_args=["--bogus"])
    assert argv[-1] == "--bogus", "with an unknown flag list ComfyUI itself judges"


@pytest.mark.parametrize(
    ("argv", "port"),
    [
        (["main.py", "--port", "81"], 81),
        (["main.py", "--port=82"], 82),
        (["main.py"], None),
        (["main.py", "--port"], None),
    ],
)
def test_port_in_argv(argv: list[str], port: int | None) -> None:
    assert port_in_argv(argv) == port


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["lowvram"], "has no flag `lowvram`; did you mean `--lowvram`?"),
        (["--lowvam"], "has no flag `--lowvam`; did you mean `--lowvram`?"),
        (["--low_vram"], "did you mean `--lowvram`?"),
        (["sure"], "has no flag `sure`; flags start with --"),
    ],
)
def test_unknown_flags_name_the_version_and_the_near_miss(extra: list[str], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        build(extra_args=extra)


def test_a_bare_word_after_a_flag_is_its_value() -> None:
    argv, _ = build(
        ("--listen", "--port", "--lowvram", "--preview-method"),
        extra_args=["--preview-method", "auto"],
    )
    assert argv[-2:] == ["--preview-method", "auto"]

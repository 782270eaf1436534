"""The output contract of every subcommand, as a script sees it (real processes):

- with `--json`, a run that succeeds prints one JSON document on stdout (a `--watch`/`--follow`
  stream: one JSON object per line);
- a reader that goes away (stdout closed before the first byte, like `| head -c1`) ends the
  command quietly: the same exit status as with a reader, no traceback, no `Errno 32`, and
  nothing left half done (a launch still waits until ComfyUI is ready).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from comfy_tui.cli.handlers import HANDLERS
from comfy_tui.paths import DataPaths
from comfy_tui.store.instance_records import list_instances
from tests.fakes import models as fm
from tests.fakes.installed_version import install_fake_version
from tests.fakes.instance_lab import free_port
from tests.fakes.workflow_files import api_flow
from tests.ui.app_factory import OFFLINE_GITHUB

pytestmark = pytest.mark.usefixtures("no_leftover_children")

TAG, OTHER = "v0.3.77", "v0.4.0"
FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "nvml_h200.json"
QUIET_FAILURES = ("Traceback", "Errno 32", "Broken pipe", "BrokenPipe")


def env_for(base_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMFY_TUI_", "HF_"))}
    env.update(
        {
            "COMFY_TUI_GITHUB_API": OFFLINE_GITHUB,
            "COMFY_TUI_COMFYUI_REPO": "file:///nonexistent/ComfyUI.git",
            "COMFY_TUI_GPU_REPLAY": str(FIXTURE),
            "COMFY_TUI_POLL_INTERVAL": "0.1",
            "COMFY_TUI_STOP_GRACE": "2",
            "COMFY_TUI_BASE_PORT": str(base_port),
        }
    )
    return env


class Shell:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.env = env_for(free_port())

    def argv(self, args: tuple[str, ...]) -> list[str]:
        return [sys.executable, "-m", "comfy_tui", "--data-dir", str(self.data_dir), *args]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.argv(args),
            capture_output=True,
            text=True,
            env=self.env,
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )

    def run_unread(self, *args: str) -> tuple[int, str]:
        """Run with a stdout nobody reads any more (the pipe's read end is closed first)."""
        read_end, write_end = os.pipe()
        os.close(read_end)
        try:
            proc = subprocess.run(
                self.argv(args),
                stdout=write_end,
                stderr=subprocess.PIPE,
                text=True,
                env=self.env,
                stdin=subprocess.DEVNULL,
                timeout=120,
                check=False,
            )
        finally:
            os.close(write_end)
        return proc.returncode, proc.stderr

    def head_c1(self, *args: str) -> tuple[bytes, int, str]:
        """Like `comfy-tui ... | head -c1`: read one byte, then close."""
        proc = subprocess.Popen(
            self.argv(args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self.env,
            stdin=subprocess.DEVNULL,
        )
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.read(1)
        proc.stdout.close()
        stderr = proc.stderr.read().decode()
        proc.stderr.close()
        return first, proc.wait(timeout=120), stderr


def one_document(text: str, lines: bool) -> None:
    if lines:
        assert text.strip(), "no output"
        for line in text.strip().splitlines():
            json.loads(line)
    else:
        json.loads(text)


def check(shell: Shell, *args: str, lines: bool = False, destructive: bool = False) -> int:
    """Compare a normal `--json` run with one whose reader is gone; returns the exit status."""
    full = (*args, "--json")
    if destructive:  # runs once, unread: the status is checked by the caller
        code, stderr = shell.run_unread(*full)
    else:
        normal = shell.run(*full)
        if normal.returncode == 0:
            one_document(normal.stdout, lines)
        else:
            assert normal.stdout == "", (args, normal.stdout)
        code, stderr = shell.run_unread(*full)
        assert code == normal.returncode, (args, code, normal.returncode, stderr)
    assert not any(bad in stderr for bad in QUIET_FAILURES), (args, stderr)
    COVERED.add(command_of(args))
    return code


COVERED: set[str] = set()


def command_of(args: tuple[str, ...]) -> str:
    two = " ".join(args[:2])
    return two if two in HANDLERS else args[0]


@pytest.fixture
def shell(data_dir: Path) -> Shell:
    paths = DataPaths(data_dir)
    install_fake_version(paths, TAG)
    install_fake_version(paths, OTHER)
    fm.write_safetensors(
        paths.library_models() / "checkpoints" / "dream.safetensors", fm.sd15_checkpoint()
    )
    return Shell(data_dir)


def _versions(shell: Shell, tmp_path: Path) -> None:
    check(shell, "config")
    check(shell, "releases")
    check(shell, "versions")
    check(shell, "install", "v9.9.9", "--torch", "cpu")
    check(shell, "update", TAG, "--to", "v9.9.9")
    check(shell, "rollback", TAG)
    check(shell, "upgrade", TAG, "v9.9.9")
    assert check(shell, "default", TAG, destructive=True) == 0


def _instances(shell: Shell, tmp_path: Path) -> None:
    data = shell.data_dir
    try:
        assert check(shell, "launch", TAG, destructive=True) == 0
        (record,) = list_instances(DataPaths(data))
        assert record.state == "running", "the launch finished its readiness wait"
        check(shell, "ps")
        check(shell, "logs", record.id)
        check(shell, "logs", record.id, "-n", "3")
        check(shell, "jobs", record.id)
        check(shell, "free", record.id)
        check(shell, "run", str(tmp_path / "missing.json"), "--instance", record.id)
        check(shell, "outputs", record.id, "no-such-prompt", "--to", str(tmp_path / "out"))
        assert check(shell, "restart", record.id, destructive=True) == 0
        assert check(shell, "stop", record.id, destructive=True) == 0
        assert not any(r.live for r in list_instances(DataPaths(data)))
    finally:
        shell.run("stop", "--all")
    check(shell, "stats")
    check(shell, "stats", "--watch", "--count", "2", lines=True)


def _workflow(tmp_path: Path) -> Path:
    workflow = tmp_path / "flow.json"
    workflow.write_text(json.dumps(api_flow()))
    return workflow


def _models(shell: Shell, tmp_path: Path) -> None:
    check(shell, "models", "scan")
    check(shell, "models", "list")
    check(shell, "models", "hash")
    check(shell, "models", "dedupe")
    check(shell, "models", "info", "dream.safetensors")
    check(shell, "models", "needs", str(_workflow(tmp_path)))
    check(shell, "models", "download", "http://127.0.0.1:9/x.safetensors")
    outside = tmp_path / "incoming" / "lora.safetensors"
    fm.write_safetensors(outside, fm.sd15_checkpoint())
    assert check(shell, "models", "import", str(outside), "--copy", destructive=True) == 0
    assert check(shell, "models", "rm", "dream.safetensors", destructive=True) == 0


def _nodes(shell: Shell, tmp_path: Path) -> None:
    check(shell, "nodes", "list")
    check(shell, "nodes", "add", "not a url")
    check(shell, "nodes", "update", "Nope")
    check(shell, "nodes", "enable", "Nope", TAG)
    check(shell, "nodes", "disable", "Nope", TAG)
    check(shell, "nodes", "rm", "Nope", "--yes")
    check(shell, "nodes", "adopt", "Nope", TAG)
    check(shell, "adopt", str(tmp_path / "no-comfyui-here"))
    check(shell, "snapshot", "list", TAG)
    check(shell, "snapshot", "create", "v9.9.9")
    check(shell, "snapshot", "restore", TAG, "19990101-000000", "--yes")


def _the_rest(shell: Shell, tmp_path: Path) -> None:
    check(shell, "audit", "v9.9.9")
    check(shell, "up")
    check(shell, "autostart", "status")
    check(shell, "watch", "--count", "0")
    assert check(shell, "remove", OTHER, "--yes", destructive=True) == 0
    check(shell, "trash", "list")
    check(shell, "trash", "restore", "no-such-entry")
    assert check(shell, "trash", "empty", "--yes", destructive=True) == 0
    assert (
        check(shell, "fleet") == 2
    )  # no [[hosts]]: one line saying how (tests/integration/test_fleet.py)


# Each group runs on its own data dir (in parallel under xdist) and covers these subcommands.
GROUPS: dict[str, tuple[Callable[[Shell, Path], None], set[str]]] = {
    "versions": (
        _versions,
        {"config", "releases", "versions", "install", "update", "rollback", "upgrade", "default"},
    ),
    "instances": (
        _instances,
        {"launch", "ps", "logs", "jobs", "free", "run", "outputs", "restart", "stop", "stats"},
    ),
    "models": (_models, {c for c in HANDLERS if c.startswith("models ")}),
    "nodes": (_nodes, {c for c in HANDLERS if c.startswith(("nodes ", "snapshot "))} | {"adopt"}),
    "rest": (
        _the_rest,
        {"audit", "up", "autostart", "watch", "remove", "fleet"}
        | {c for c in HANDLERS if c.startswith("trash ")},
    ),
}


def test_the_groups_cover_every_subcommand() -> None:
    covered = set().union(*(commands for _, commands in GROUPS.values()))
    assert set(HANDLERS) == covered, f"not covered: {set(HANDLERS) - covered}"


@pytest.mark.slow
@pytest.mark.parametrize("group", GROUPS)
def test_every_subcommand_keeps_the_output_contract(
    group: str, shell: Shell, tmp_path: Path
) -> None:
    scenario, commands = GROUPS[group]
    COVERED.clear()
    scenario(shell, tmp_path)
    assert commands == COVERED


def test_a_reader_that_closes_after_one_byte(shell: Shell) -> None:
    for args in (("versions", "--json"), ("config", "--json"), ("default", TAG, "--json")):
        first, code, stderr = shell.head_c1(*args)
        assert (first, code) == (b"{", 0), (args, stderr)
        assert not any(bad in stderr for bad in QUIET_FAILURES), stderr


def test_default_prints_json_when_asked(shell: Shell) -> None:
    assert json.loads(shell.run("default", TAG, "--json").stdout) == {"default": TAG}
    assert json.loads(shell.run("default", "--clear", "--json").stdout) == {"default": None}

"""No child process sees comfy-tui's secrets unless the user hands one over (real processes).

The parent (`comfy-tui` run as a script sees it) has every secret variable set; what the
children got is read from `/proc/<pid>/environ` (a launched ComfyUI and its supervisor) or
from what they wrote down themselves (`env` run through `services.proc`).
"""

from __future__ import annotations

import ast
import asyncio
import json
import os
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

import comfy_tui
from comfy_tui.services.childenv import SECRET_VARS, child_environ, mask_env
from comfy_tui.services.git import git_env
from comfy_tui.services.proc import ChildProcess, run_capture
from comfy_tui.store.instance_records import require_instance
from tests.cli_run import run_cli
from tests.fakes.instance_lab import Lab

SECRETS = {name: f"https://secret.invalid/{name.lower()}-value" for name in sorted(SECRET_VARS)}
"""A value for every secret variable (a URL: a secret setting may be one, a webhook)."""


def test_every_known_token_variable_is_secret() -> None:
    assert {
        "HF_TOKEN",
        "HUGGING_FACE_HUB_TOKEN",
        "GITHUB_TOKEN",
        "COMFY_TUI_GITHUB_TOKEN",
        "CIVITAI_API_TOKEN",
    } <= SECRET_VARS
    env = child_environ({**SECRETS, "PATH": "/bin"}, keep=["HF_TOKEN"], extra={"X": "1"})
    assert env == {"PATH": "/bin", "HF_TOKEN": SECRETS["HF_TOKEN"], "X": "1"}
    assert mask_env({"HF_TOKEN": "a", "MY_API_KEY": "b", "LANG": "C"}) == {
        "HF_TOKEN": "***",
        "MY_API_KEY": "***",
        "LANG": "C",
    }


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(): v.decode("utf-8", "replace") for k, v in pairs}


async def test_proc_children_never_get_secrets_whatever_env_the_caller_built() -> None:
    given = {**os.environ, **SECRETS, "KEPT": "yes"}
    run = await run_capture(["env"], env=given)
    assert "KEPT=yes" in run.stdout
    assert not any(value in run.stdout for value in SECRETS.values())
    child = ChildProcess(["env"], env=git_env(given))
    lines = [line async for line in child.lines()]
    assert "GIT_TERMINAL_PROMPT=0" in lines
    assert not any(value in "\n".join(lines) for value in SECRETS.values())


@pytest.fixture
async def lab(tmp_path: Path) -> AsyncIterator[Lab]:
    lab = Lab(tmp_path)
    yield lab
    await lab.cleanup()


def _cli(lab: Lab, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMFY_TUI_")}
    env.update(SECRETS)
    env.update(extra)
    env["COMFY_TUI_BASE_PORT"] = str(lab.settings.base_port)
    return run_cli(lab.root, *args, env=env)


@pytest.mark.slow
async def test_a_launched_comfyui_gets_no_secret_but_those_passed_on(lab: Lab) -> None:
    started = _cli(lab, "launch", "--json")
    assert started.returncode == 0, started.stderr
    record = require_instance(lab.paths, started.stdout.split('"id": "')[1].split('"')[0])
    assert record.pid is not None and record.supervisor_pid is not None
    for pid in (record.pid, record.supervisor_pid):
        seen = _environ(pid)
        assert not SECRET_VARS & seen.keys(), sorted(SECRET_VARS & seen.keys())
        assert "PATH" in seen
    assert _cli(lab, "stop", "--all").returncode == 0

    handed = _cli(lab, "launch", "--json", "--env", "CIVITAI_API_TOKEN=handed-over")
    assert handed.returncode == 0, handed.stderr
    record = require_instance(lab.paths, handed.stdout.split('"id": "')[1].split('"')[0])
    assert record.pid is not None
    seen = _environ(record.pid)
    assert seen.get("CIVITAI_API_TOKEN") == "handed-over"
    assert not (SECRET_VARS - {"CIVITAI_API_TOKEN"}) & seen.keys()
    ps = _cli(lab, "ps", "--json")
    assert ps.returncode == 0 and "handed-over" not in ps.stdout + ps.stderr
    [row] = [r for r in json.loads(ps.stdout) if r["id"] == record.id]
    assert row["env"] == {"CIVITAI_API_TOKEN": "***"}
    assert "handed-over" not in _cli(lab, "ps").stdout
    assert _cli(lab, "stop", "--all").returncode == 0

    kept = _cli(lab, "launch", "--json", COMFY_TUI_PASS_ENV="HF_TOKEN")
    assert kept.returncode == 0, kept.stderr
    record = require_instance(lab.paths, kept.stdout.split('"id": "')[1].split('"')[0])
    assert record.pid is not None
    seen = _environ(record.pid)
    assert seen.get("HF_TOKEN") == SECRETS["HF_TOKEN"]
    assert not (SECRET_VARS - {"HF_TOKEN"}) & seen.keys()
    assert _cli(lab, "stop", "--all").returncode == 0


SPAWNS = {
    "subprocess": {"Popen", "run", "call", "check_call", "check_output"},
    "asyncio": {"create_subprocess_exec", "create_subprocess_shell"},
    "os": {"system", "popen", "execv", "execve", "execvp", "execvpe", "spawnv", "posix_spawn"},
}
"""Calls that start a process."""


def _spawn_calls() -> list[tuple[str, int, str]]:
    """(module, line, env expression) of every process start in the package."""
    root = Path(comfy_tui.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            owner = node.func.value
            owner_name = getattr(owner, "attr", "") or getattr(owner, "id", "")
            if node.func.attr not in SPAWNS.get(owner_name, ()):
                continue
            env = next((k.value for k in node.keywords if k.arg == "env"), None)
            text = ast.unparse(env) if env is not None else "<inherited>"
            found.append((str(path.relative_to(root)), node.lineno, text))
    return found


def test_every_process_start_gets_an_environment_built_by_child_environ() -> None:
    """The call sites the issue's note lists; a new one must be added here (and use it)."""
    sites = {(module, env) for module, _, env in _spawn_calls()}
    assert sites == {
        ("services/proc.py", "self.env"),  # = child_environ(env) in ChildProcess.__init__
        ("services/proc.py", "child_environ(env)"),
        ("services/mirror_tags.py", "env"),  # child_environ(extra=...), just above
        ("services/instances/spawn.py", "child_environ(keep=pass_env, extra=record.env)"),
        ("services/instances/supervisor.py", "dict(os.environ)"),  # built by spawn.py
        ("services/notify/deliver.py", "command_env(os.environ, notice)"),  # child_environ + notice
        ("services/autostart.py", "child_environ()"),
        ("services/lifecycle/carry.py", "git_env()"),  # = child_environ() + git's own
        ("services/lifecycle/swap_journal.py", "git_env()"),
        ("services/size_estimate.py", "child_environ()"),
        ("services/downloads/hub_fast.py", "child_environ()"),  # a token goes on stdin only
    }


def test_proc_applies_child_environ_to_the_env_it_is_given() -> None:
    source = (Path(comfy_tui.__file__).parent / "services" / "proc.py").read_text()
    assert "self.env = child_environ(env)" in source


async def test_mirror_tags_git_gets_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The one direct asyncio spawn outside proc.py: a fake git writes down its env."""
    from comfy_tui.services.mirror_tags import mirror_tags

    repo = tmp_path / "repo.git"
    repo.mkdir()
    (repo / "HEAD").write_text("ref: refs/heads/main\n")
    dump = tmp_path / "env.txt"
    fake = tmp_path / "git"
    fake.write_text(f"#!/bin/sh\nenv > {dump}\n")
    fake.chmod(0o755)
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    assert await asyncio.wait_for(mirror_tags(repo, git=str(fake)), 30) == []
    text = dump.read_text()
    assert "GIT_TERMINAL_PROMPT=0" in text
    assert not any(value in text for value in SECRETS.values())


async def test_a_github_token_reaches_git_only_as_a_header_for_github(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A fake git on PATH writes down its argv and environment, then makes the clone."""
    from comfy_tui.services.nodes.checkouts import NodeCheckout

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "git"
    fake.write_text(
        "#!/bin/sh\n"
        f'echo "$@" >> {tmp_path / "argv.txt"}\n'
        f"env >> {tmp_path / 'env.txt'}\n"
        'for last; do :; done\nmkdir -p "$last/.git"\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    token = "ghp_the-token-value"

    async def clone(url: str, dest: Path) -> str:
        async for _ in NodeCheckout(dest).clone(url, dest, token=token):
            pass
        return (tmp_path / "env.txt").read_text()

    env = await clone("https://github.com/example/Thing", tmp_path / "a")
    assert "GIT_CONFIG_KEY_0=http.https://github.com/.extraHeader" in env
    header = next(line for line in env.splitlines() if line.startswith("GIT_CONFIG_VALUE_0="))
    assert header.startswith("GIT_CONFIG_VALUE_0=Authorization: Basic ")
    assert token not in env and not any(value in env for value in SECRETS.values())
    argv = (tmp_path / "argv.txt").read_text()
    assert "Basic" not in argv and token not in argv and "@github.com" not in argv

    (tmp_path / "env.txt").unlink()
    other = await clone("https://gitlab.example/example/Thing", tmp_path / "b")
    assert "GIT_CONFIG_VALUE_0" not in other and "Basic" not in other


async def test_a_secret_handed_to_one_instance_reaches_that_instance_only(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    from comfy_tui.services.instances.launch import LaunchRequest

    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    service = lab.service()
    handed = await service.start(LaunchRequest("v0.3.77", env={"HF_TOKEN": "handed-over"}))
    plain = await service.start(LaunchRequest("v0.3.77"))
    assert handed.pid is not None and plain.pid is not None
    seen = _environ(handed.pid)
    assert seen["HF_TOKEN"] == "handed-over"
    assert not (SECRET_VARS - {"HF_TOKEN"}) & seen.keys()
    assert not SECRET_VARS & _environ(plain.pid).keys()
    views = {v.id: v.to_json() for v in await service.refresh()}
    assert views[handed.id]["env"] == {"HF_TOKEN": "***"}

"""The layers under the UI never load Textual or Rich (checked in a fresh interpreter)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEADLESS = [
    "comfy_tui.services",
    "comfy_tui.store",
    "comfy_tui.core",
    "comfy_tui.settings",
    "comfy_tui.paths",
    "comfy_tui.validate",
    "comfy_tui.events",
    "comfy_tui.errors",
    "comfy_tui.logs",
]


def _loaded_ui_modules(module: str) -> list[str]:
    code = (
        "import importlib, pkgutil, sys\n"
        f"m = importlib.import_module({module!r})\n"
        "for info in pkgutil.walk_packages(getattr(m, '__path__', []), m.__name__ + '.'):\n"
        "    importlib.import_module(info.name)\n"
        "ui = ('textual', 'rich')\n"
        "print(' '.join(sorted(n for n in sys.modules if n.split('.')[0] in ui)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return result.stdout.split()


@pytest.mark.parametrize("module", HEADLESS)
def test_headless_layers_do_not_import_textual_or_rich(module: str) -> None:
    assert _loaded_ui_modules(module) == []


def test_cli_subcommands_do_not_import_the_ui() -> None:
    code = (
        "import sys\n"
        "from comfy_tui.cli import main\n"
        "main(['--data-dir', sys.argv[1], 'config', '--json'])\n"
        "assert not [n for n in sys.modules if n.startswith('textual')], 'textual loaded'\n"
    )
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [sys.executable, "-c", code, tmp], check=True, capture_output=True, timeout=120
        )


def loaded_by(argv: list[str], names: tuple[str, ...], data: Path) -> list[str]:
    """Which of `names` (modules) a fresh `comfy-tui --data-dir DATA ARGV...` has loaded."""
    code = (
        "import json, sys\n"
        "from comfy_tui.cli import main\n"
        "assert main(['--data-dir', *sys.argv[1:]]) == 0\n"
        f"names = {names!r}\n"
        "sys.stderr.write('LOADED ' + json.dumps([n for n in names if n in sys.modules]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(data), *argv],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "LOADED " in result.stderr, result.stderr
    loaded: list[str] = json.loads(result.stderr.rsplit("LOADED ", 1)[1])
    return loaded


QUICK_COMMANDS = [
    ["ps", "--json"],
    ["versions", "--json"],
    ["config", "--json"],
    ["default", "--clear"],
]
HEAVY = ("textual", "rich", "aiohttp", "aiosqlite", "huggingface_hub", "pynvml", "yarl")


@pytest.mark.parametrize("command", QUICK_COMMANDS, ids=lambda c: c[0])
def test_quick_commands_import_only_what_they_use(command: list[str], tmp_path: Path) -> None:
    """`ps`, `versions`, `config` and `default` answer without the UI, HTTP, SQLite or NVML."""
    assert loaded_by(command, HEAVY, tmp_path / "data") == []


def test_config_loads_no_event_loop_tls_or_toml(tmp_path: Path) -> None:
    """`config` prints settings: no asyncio, ssl, tomllib (no settings file), `secrets` or
    `difflib`; and the parser built is the one for `config` only (start-up cost)."""
    names = ("asyncio", "ssl", "tomllib", "secrets", "difflib")
    assert loaded_by(["config", "--json"], names, tmp_path / "data") == []


LEAN: dict[str, tuple[list[str], tuple[str, ...]]] = {
    "ps": (
        ["ps", "--json"],
        (
            "asyncio",
            "logging.handlers",
            "psutil",
            "difflib",
            "getpass",
            "comfy_tui.services.instances.launch",
            "comfy_tui.services.instances.stop",
            "comfy_tui.services.jobs.state",
            "comfy_tui.runner",
            "shutil",
        ),
    ),
    "versions": (["versions", "--json"], ("asyncio", "secrets", "hashlib", "tomllib", "shutil")),
    "default": (["default", "--clear"], ("asyncio", "secrets", "hashlib", "tomllib", "shutil")),
    "config": (
        ["config", "--json"],
        ("logging.handlers", "comfy_tui.store.instance_records", "shutil", "bz2", "lzma"),
    ),
    "models scan": (
        ["models", "scan", "--json"],
        (
            "asyncio",
            "aiosqlite",
            "comfy_tui.runner",
            "comfy_tui.services.library.service",
            "comfy_tui.services.library.headers",
            "comfy_tui.services.library.importer",
            "comfy_tui.services.library.dedupe",
            "comfy_tui.services.library.hashing",
            "comfy_tui.services.library.trash",
            "comfy_tui.store.civitai_index",
            "comfy_tui.store.models_index",
            "comfy_tui.services.library.rebuild",
            "logging",
            "dataclasses",
            "inspect",
            "comfy_tui.validate",
        ),
    ),
}


@pytest.mark.parametrize("command", sorted(LEAN))
def test_quick_commands_leave_the_rest_unloaded(command: str, tmp_path: Path) -> None:
    """With nothing installed or running, `ps`, `versions` and `default` read and write their
    records without an event loop (asyncio and its ssl/subprocess imports are a fifth of a
    start); `ps` loads no process table (psutil) and no launch/stop/job modules; no command
    loads the rotating-handler module (sockets, pickle) for its log file, nor shutil (bz2,
    lzma) for argparse's help width; a scan runs without an event loop or aiosqlite (stdlib
    sqlite3, no library service), and one that finds nothing new reads no header and loads no
    import, dedupe, hashing or CivitAI module, no `ModelRecord` (models_index) and no rebuild;
    nor `logging` (its log file is set up on first need: log_start.py), `dataclasses` (with
    `inspect`: settings, paths and events are plain classes and named tuples) or the input
    checks (validate.py), which only a set value needs."""
    argv, names = LEAN[command]
    assert loaded_by(argv, names, tmp_path / "data") == []

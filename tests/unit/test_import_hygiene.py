"""The layers under the UI never load Textual or Rich (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys

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

"""One container for every front end: built lazily, wired the same way for the CLI and TUI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from comfy_tui.services.container import Services
from comfy_tui.settings import Settings
from tests.fakes.guards import fake_guard

CLI_DIR = Path(__file__).resolve().parents[2] / "comfy_tui" / "cli"
HAND_BUILT = re.compile(r"(Versions|Instances|Nodes|Library|Snapshot)[A-Za-z]*Service\(")


def test_nothing_is_built_until_used(tmp_path: Path) -> None:
    services = Services(Settings(data_dir=tmp_path))
    assert services.built() == []
    instances = services.instances
    assert services.built() == ["guard", "instances"]
    assert instances.guard is services.guard, "one guard for every service"
    assert services.versions.guard is services.guard and services.nodes.guard is services.guard
    assert services.instances is instances, "built once, then kept"
    assert not (tmp_path / "library").exists(), "building services makes no folders"


def test_a_service_assigned_before_use_replaces_the_built_one(tmp_path: Path) -> None:
    services = Services(Settings(data_dir=tmp_path))
    services.guard = fake_guard(services.paths, {"v0.3.77": 1})
    assert services.versions.guard is services.guard


async def test_running_versions_come_from_the_guard(tmp_path: Path) -> None:
    services = Services(Settings(data_dir=tmp_path))
    services.guard = fake_guard(services.paths, {"v0.3.77": 2})
    assert await services.running_versions() == {"v0.3.77": 2}
    assert await services.instances.running_versions() == {"v0.3.77": 2}


def test_no_cli_module_builds_a_service_by_hand() -> None:
    found = [
        f"{path.name}: {match.group(0)}"
        for path in sorted(CLI_DIR.glob("*.py"))
        for match in HAND_BUILT.finditer(path.read_text())
    ]
    assert found == []


def test_ps_loads_neither_the_ui_nor_http_nor_the_other_services(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from comfy_tui.cli import main\n"
        "assert main(['--data-dir', sys.argv[1], 'ps', '--json']) == 0\n"
        "heavy = ('textual', 'aiohttp', 'aiosqlite', 'huggingface_hub')\n"
        "print(' '.join(sorted(n for n in sys.modules if n.split('.')[0] in heavy)))\n"
        "print(' '.join(sorted(n for n in sys.modules if n.startswith('comfy_tui.services.'))))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    heavy, services = result.stdout.splitlines()[-2:]
    assert heavy == ""
    for untouched in ("downloads", "library.service", "monitor", "nodes", "github", "versions"):
        assert f"comfy_tui.services.{untouched}" not in services.split()

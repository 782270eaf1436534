"""Shared fixtures: a clean environment, a throwaway data dir, SVG snapshots under snapshots/."""

from __future__ import annotations

import compileall
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytest_textual_snapshot

import comfy_tui
from comfy_tui.settings import ENV_VARS, Settings

pytest_plugins = [
    "tests.css_once",
    "tests.fakes.install_fixtures",
    "tests.fakes.node_fixtures",
    "tests.fakes.ssh_hosts",
]
"""Textual CSS parsed once a process (`tests.css_once`); install fixtures (fake upstream repo,
wheelhouse, settings), node fixtures (a node mirror, node wheels) and the fleet's SSH lab
(`ssh_lab`) for any test that asks for them."""
# huggingface_hub reads these once, when first imported: no telemetry calls, no Xet, and a
# throwaway HF_HOME (never the developer's token or cache).
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ["HF_HUB_DISABLE_XET"] = "1"
os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="comfy-tui-test-hf-")


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """`-n auto --dist worksteal` (pyproject's addopts) stay valid under `-p no:xdist`: the
    options are then accepted and ignored, and the run is serial."""
    if pluginmanager.has_plugin("xdist"):
        return
    group = parser.getgroup("xdist", "pytest-xdist is disabled: these are ignored")
    group._addoption("-n", "--numprocesses", dest="numprocesses", default=None)
    group.addoption("--dist", dest="dist", default="no")


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Rewriting snapshots runs in one process: each xdist worker sees only its share of the
    tests and could take another worker's snapshots for unused ones."""
    if config.getoption("--snapshot-update", default=False) and config.pluginmanager.has_plugin(
        "xdist"
    ):
        config.option.numprocesses = 0


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto` starts one worker more than this machine has CPUs: a UI test spends about a
    third of its time in Pilot's idle waits (each key and pause ends on a 20 ms slice with no
    work) and an integration test waits on its children, so a third worker on 2 cores fills
    those gaps (quiet 2-core box: tests/integration 224 s with 2 workers, 177 s with 3; 103 UI
    tests 68.6 s and 58.7 s; the same CPU). PYTEST_XDIST_AUTO_NUM_WORKERS decides when set."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    return len(os.sched_getaffinity(0)) + 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Known-slow tests (`@pytest.mark.slow`) run first, in their collected order: under
    `--dist worksteal` the other worker then takes short tests off the end of the queue, and no
    worker is left finishing a long test alone at the end of the run."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_configure(config: pytest.Config) -> None:
    """Byte-compile comfy_tui once, before any worker starts: the suite starts
    `python -m comfy_tui` (and its supervisors) hundreds of times, and under
    PYTHONDONTWRITEBYTECODE each of them would compile every module it imports again (0.3-0.7 s
    of CPU a command). Only the package's own, git-ignored `__pycache__` is written; the
    environment the tests and their children get is unchanged."""
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist)
        compileall.compile_dir(Path(comfy_tui.__file__).parent, quiet=1)


TESTS_ROOT = Path(__file__).resolve().parent
SNAPSHOT_ROOT = TESTS_ROOT.parent / "snapshots"


class TopLevelSVGExtension(pytest_textual_snapshot.SVGImageExtension):
    """Mirror tests/ under snapshots/: tests/ui/test_x.py -> snapshots/ui/test_x/<test>.svg."""

    @classmethod
    def dirname(cls, *, test_location):  # type: ignore[no-untyped-def]
        rel = Path(test_location.filepath).resolve().parent.relative_to(TESTS_ROOT)
        return str(SNAPSHOT_ROOT / rel / test_location.basename)


# snap_compare looks this name up each time it runs, so rebinding it redirects every snapshot.
pytest_textual_snapshot.SVGImageExtension = TopLevelSVGExtension

_OUR_ENV = {name for names in ENV_VARS.values() for name in names} | {
    "COMFY_TUI_HOME",
    "XDG_DATA_HOME",
    "TEXTUAL_THEME",
}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test sees the developer's tokens, mirrors or data dir."""
    for name in _OUR_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path_factory.mktemp("home")))


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def settings(data_dir: Path) -> Iterator[Settings]:
    yield Settings(data_dir=data_dir)

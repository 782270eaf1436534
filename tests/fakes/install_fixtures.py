"""pytest fixtures for installs: the fake upstream ComfyUI repo, a wheelhouse, settings using them.

Import them into a test module (``from tests.fakes.install_fixtures import ...``). The repo has
the three default tags plus ``v0.5.0``, whose requirements name `slowdep`: importing it sleeps a
minute, so the smoke test of v0.5.0 hangs until a test cancels or kills the install.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from comfy_tui.settings import Settings
from tests.fakes.comfyui_repo import DEFAULT_TAGS, REQUIREMENTS, FakeTag, build_comfyui_repo
from tests.fakes.wheelhouse import build_wheel, build_wheelhouse
from tests.waiting import wait_until

SLOW_TAG = FakeTag("v0.5.0", requirements=REQUIREMENTS + "slowdep\n")
ALL_TAGS = (*DEFAULT_TAGS, SLOW_TAG)


@pytest.fixture(scope="session")
def fake_upstream(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bare upstream repository (shared: do not add tags to it; build your own)."""
    return build_comfyui_repo(tmp_path_factory.mktemp("upstream"), ALL_TAGS)


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = build_wheelhouse(tmp_path_factory.mktemp("wheelhouse"))
    build_wheel(
        dest, "slowdep", "1.0", files={"slowdep/__init__.py": "import time\ntime.sleep(60)\n"}
    )
    return dest


def install_settings_for(
    data_dir: Path, upstream: Path, wheelhouse: Path, **kw: object
) -> Settings:
    values: dict[str, object] = {
        "comfyui_repo": upstream.as_uri(),
        "find_links": (wheelhouse.as_uri(),),
        "python": sys.executable,
    }
    values.update(kw)
    return Settings(data_dir=data_dir, **values)  # type: ignore[arg-type]


@pytest.fixture
def install_settings(data_dir: Path, fake_upstream: Path, wheelhouse: Path) -> Settings:
    """Settings for an offline install: the fake repo, the wheelhouse alone, this Python."""
    return install_settings_for(data_dir, fake_upstream, wheelhouse)


def cli_env(settings: Settings) -> dict[str, str]:
    """The environment a `python -m comfy_tui` child needs to use the same fakes."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMFY_TUI_", "HF_"))}
    env.update(
        {
            "COMFY_TUI_COMFYUI_REPO": settings.comfyui_repo,
            "COMFY_TUI_FIND_LINKS": " ".join(settings.find_links),
            "COMFY_TUI_PYTHON": settings.python,
            "COMFY_TUI_INSTALLER": settings.installer,
        }
    )
    return env


def processes_under(root: Path) -> list[psutil.Process]:
    """Live processes whose command line or working directory lies under `root`."""
    found = []
    needle = str(root)
    for proc in psutil.process_iter(["cmdline", "cwd", "status"]):
        try:
            if proc.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            cmdline = " ".join(proc.info["cmdline"] or [])
            cwd = proc.info["cwd"] or ""
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if proc.pid != os.getpid() and (needle in cmdline or cwd.startswith(needle)):
            found.append(proc)
    return found


@pytest.fixture
def no_leftover_children(data_dir: Path) -> Iterator[None]:
    """Fails the test if any process still runs inside the data dir when it ends."""
    yield
    with contextlib.suppress(AssertionError):  # a child killed a moment ago may still be exiting
        wait_until(lambda: not processes_under(data_dir), "the children to exit")
    leftovers = processes_under(data_dir)
    for proc in leftovers:
        proc.kill()
    assert not leftovers, [p.info.get("cmdline") for p in leftovers]

"""Nothing of a custom node runs before consent, and nothing it runs sees a secret.

A node repository built here asks for a local source distribution whose setup code writes a
marker file (and the environment it got). `comfy-tui nodes add` + `enable`, run as a script
with every secret variable set, must never create the marker until the user allowed both the
direct reference and the source build; then it installs, and neither its setup code, nor the
node's install.py, nor git saw a secret.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from comfy_tui.services.childenv import SECRET_VARS
from comfy_tui.settings import Settings
from tests.cli_run import run_cli
from tests.fakes.install_fixtures import cli_env
from tests.fakes.node_fixtures import install_versions, nodes_settings_for
from tests.fakes.node_repo import NodeCommit, NodeMirror
from tests.fakes.sdist import build_marker_sdist

pytestmark = pytest.mark.usefixtures("no_leftover_children")

TAG = "v0.3.77"
SECRETS = {name: f"https://secret.invalid/{name.lower()}-value" for name in sorted(SECRET_VARS)}
INSTALL_PY = "import json, os, sys\njson.dump(dict(os.environ), open(sys.argv[0] + '.env', 'w'))\n"


def run(settings: Settings, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI with every secret in its environment and a `git` on PATH that logs its env."""
    wrappers = tmp_path / "bin"
    if not wrappers.is_dir():
        wrappers.mkdir()
        git = wrappers / "git"
        git.write_text(
            f'#!/bin/sh\nenv >> {tmp_path / "git-env.txt"}\nexec {shutil.which("git")} "$@"\n'
        )
        git.chmod(0o755)
    env = cli_env(settings)
    env.update(SECRETS)
    env["COMFY_TUI_NODES_MIRROR"] = settings.nodes_mirror or ""
    env["PATH"] = f"{wrappers}{os.pathsep}{env['PATH']}"
    return run_cli(settings.data_dir, *args, env=env)


def no_secret_in(text: str) -> bool:
    return not any(value in text for value in SECRETS.values())


def site_packages(data_dir: Path) -> Path:
    [site] = (data_dir / "versions" / TAG / ".venv").glob("lib/python*/site-packages")
    return site


@pytest.mark.slow
async def test_a_direct_reference_to_an_sdist_runs_nothing_before_both_consents(
    tmp_path: Path,
    data_dir: Path,
    fake_upstream: Path,
    wheelhouse: Path,
    node_wheels: Path,
    node_mirror: NodeMirror,
) -> None:
    marker = tmp_path / "MARKER"
    sdist = build_marker_sdist(tmp_path / "sdists", "evilpkg", "1.0", marker)
    settings = nodes_settings_for(data_dir, fake_upstream, node_mirror, wheelhouse, node_wheels)
    await install_versions(settings, TAG)
    line = f"evilpkg @ {sdist.as_uri()}"
    node_mirror.add(
        "Evil", NodeCommit(requirements=f"nodedep==1.0\n{line}\n", install_script=INSTALL_PY)
    )
    added = run(settings, tmp_path, "nodes", "add", node_mirror.url("Evil"))
    assert added.returncode == 0, added.stderr

    for extra in ([], ["--yes"], ["--yes", "--build-from-source", "--run-install-script"]):
        refused = run(settings, tmp_path, "nodes", "enable", "Evil", TAG, *extra)
        assert refused.returncode == 2, refused.stderr
        last = refused.stderr.strip().splitlines()[-1]
        assert f"Evil/requirements.txt line 2: {line!r}: a direct reference" in last
        assert "--allow-direct-refs" in last
        assert not marker.exists()

    unbuilt = run(
        settings, tmp_path, "nodes", "enable", "Evil", TAG, "--allow-direct-refs", "--yes"
    )
    assert unbuilt.returncode == 1, unbuilt.stderr
    assert "evilpkg: would build from source (runs its setup code)" in unbuilt.stderr
    assert "add --build-from-source" in unbuilt.stderr.splitlines()[-1]
    assert not marker.exists() and not (site_packages(data_dir) / "evilpkg").exists()

    args = ("--allow-direct-refs", "--build-from-source", "--yes", "--run-install-script")
    done = run(settings, tmp_path, "nodes", "enable", "Evil", TAG, *args, "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["applied"] and result["builds_allowed"]
    assert [a["text"] for a in result["allowed_lines"]] == [line]
    assert {c["name"] for c in result["changes"]} == {"evilpkg", "nodedep"}
    assert marker.exists() and (site_packages(data_dir) / "evilpkg" / "__init__.py").exists()

    setup_env = Path(str(marker) + ".env.json").read_text()
    script_env = (data_dir / "nodes" / "Evil" / "install.py.env").read_text()
    git_env = (tmp_path / "git-env.txt").read_text()
    assert no_secret_in(setup_env) and no_secret_in(script_env) and no_secret_in(git_env)
    assert not SECRET_VARS & json.loads(setup_env).keys()

    audit = run(settings, tmp_path, "audit", TAG, "--json")
    assert audit.returncode == 0, audit.stderr
    origins = {p["name"]: p["node"] for p in json.loads(audit.stdout)["packages"]}
    assert origins["evilpkg"] == "Evil" and origins["nodedep"] == "Evil"
    assert origins["tinydep"] is None

    # a restore never builds: the built package comes back from the uv cache, or not at all
    marker.unlink()

    def newest(reason: str) -> str:
        listed = json.loads(run(settings, tmp_path, "snapshot", "list", TAG, "--json").stdout)
        return next(s["id"] for s in listed["snapshots"] if s["reason"].startswith(reason))

    without = newest("before enabling Evil")
    assert run(settings, tmp_path, "snapshot", "restore", TAG, without, "--yes").returncode == 0
    assert not (site_packages(data_dir) / "evilpkg").exists()
    with_evil = newest("before restoring")
    back = run(settings, tmp_path, "snapshot", "restore", TAG, with_evil, "--yes")
    assert back.returncode == 0, back.stderr
    assert (site_packages(data_dir) / "evilpkg").is_dir() and not marker.exists()

    assert run(settings, tmp_path, "snapshot", "restore", TAG, without, "--yes").returncode == 0
    shutil.rmtree(data_dir / "cache" / "uv")
    again = run(settings, tmp_path, "snapshot", "restore", TAG, newest("before restoring"), "--yes")
    assert again.returncode == 1
    assert "evilpkg would have to be built from source" in again.stderr.splitlines()[-1]
    assert not marker.exists() and not (site_packages(data_dir) / "evilpkg").exists()


async def test_a_package_only_available_as_source_is_not_built_without_consent(
    tmp_path: Path,
    data_dir: Path,
    fake_upstream: Path,
    wheelhouse: Path,
    node_wheels: Path,
    node_mirror: NodeMirror,
) -> None:
    marker = tmp_path / "MARKER"
    sdists = tmp_path / "sdists"
    build_marker_sdist(sdists, "srconly", "1.0", marker)
    settings = nodes_settings_for(
        data_dir, fake_upstream, node_mirror, wheelhouse, node_wheels, sdists
    )
    await install_versions(settings, TAG)
    node_mirror.add("Source", NodeCommit(requirements="srconly\n"))
    assert run(settings, tmp_path, "nodes", "add", node_mirror.url("Source")).returncode == 0

    refused = run(settings, tmp_path, "nodes", "enable", "Source", TAG, "--yes", "--json")
    assert refused.returncode == 1
    assert "srconly: would build from source (runs its setup code)" in refused.stderr
    assert not marker.exists()

    built = run(
        settings, tmp_path, "nodes", "enable", "Source", TAG, "--yes", "--build-from-source"
    )
    assert built.returncode == 0, built.stderr
    assert marker.exists() and (site_packages(data_dir) / "srconly").is_dir()

"""Custom nodes, the pure part: names, mirrors, requirements checks, uv's dry-run output."""

from __future__ import annotations

from pathlib import Path

import pytest

from comfy_tui.core.node_plan import (
    PackageChange,
    clone_source,
    diff_packages,
    mirror_url,
    node_name_from_url,
    parse_changes,
    parse_freeze,
    requirement_names,
    source_build_names,
    torch_changes,
    validate_node_name,
)
from comfy_tui.errors import ValidationError
from comfy_tui.paths import DataPaths
from comfy_tui.services.envsnap.capture import node_differences
from comfy_tui.store.envsnap_records import (
    NodeState,
    Snapshot,
    list_snapshots,
    new_id,
    save_snapshot,
    validate_snapshot_id,
)


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://github.com/ltdrdata/ComfyUI-Impact-Pack", "ComfyUI-Impact-Pack"),
        ("https://github.com/Fannovel16/comfyui_controlnet_aux.git", "comfyui_controlnet_aux"),
        ("https://github.com/rgthree/rgthree-comfy/", "rgthree-comfy"),
        ("https://git.example:8443/a/b/c/Node.v2", "Node.v2"),
    ],
)
def test_the_name_comes_from_the_url(url: str, name: str) -> None:
    assert node_name_from_url(url) == name


@pytest.mark.parametrize(
    "url",
    [
        "http://github.com/a/b",
        "file:///srv/git/b.git",
        "https://github.com",
        "https://github.com/a/b?x=1",
        "https://github.com/a/b#frag",
        "https://github.com/a/-rf",
        "https://github.com/a/..git",
        "https://github.com/a/x.disabled",
        "https://user:pw@github.com/a/b",
        "https://github.com/a/%2e%2e",
    ],
)
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(ValidationError) as info:
        node_name_from_url(url)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("name", ["", ".hidden", "a/b", "__pycache__.lock", "x" * 101, "é"])
def test_bad_node_names(name: str) -> None:
    with pytest.raises(ValidationError):
        validate_node_name(name)


def test_mirror_urls() -> None:
    url = "https://github.com/owner/Repo"
    assert mirror_url("file:///srv/git/", url) == "file:///srv/git/owner/Repo.git"
    assert mirror_url("file:///srv/git", url + ".git") == "file:///srv/git/owner/Repo.git"
    assert clone_source(None, url) == url
    assert clone_source("https://m.example/x", url) == "https://m.example/x/owner/Repo.git"


def test_source_build_names_from_uv_no_build_errors() -> None:
    lines = [
        "error: Failed to build `evilpkg @ file:///tmp/wheels/evilpkg-1.0.tar.gz`",
        "  cause: Building source distributions for `evilpkg` is disabled",
        "hint: Wheels are required for `Other_Pkg` because building from source is disabled",
        "error: something else about `numpy`",
    ]
    assert source_build_names(lines) == ["evilpkg", "Other_Pkg"]
    assert source_build_names(["Resolved 3 packages"]) == []


def test_requirement_names() -> None:
    text = "Torch>=2\ntorchvision ; sys_platform == 'linux'\n# torchaudio\nnumpy[extra]==1\n"
    assert requirement_names(text) == {"torch", "torchvision", "numpy"}


DRY_RUN = """Using Python 3.11.7 environment at: /x/.venv
Resolved 4 packages in 2ms
Would download 2 packages
Would uninstall 2 packages
Would install 3 packages
 + nodedep==2.0
 - tinydep==1.0
 + tinydep==2.0
 - torch==2.5.1+cpu
 + torch==1.0
 ~ same==1.0
 + local @ file:///w/local-1.0-py3-none-any.whl
""".splitlines()


def test_dry_run_output_becomes_changes() -> None:
    changes = parse_changes(DRY_RUN)
    assert [c.describe() for c in changes] == [
        "+ local file:///w/local-1.0-py3-none-any.whl",
        "+ nodedep 2.0",
        "~ tinydep 1.0 → 2.0",
        "~ torch 2.5.1+cpu → 1.0",
    ]
    assert torch_changes(changes) == [PackageChange("torch", "2.5.1+cpu", "1.0")]
    assert parse_changes(["Resolved 1 package in 1ms", "Audited 1 package"]) == []


def test_freeze_lists_and_their_differences() -> None:
    before = parse_freeze("torch==2.5.1+cpu\nTinyDep==1.0\n\n# x\nnodedep==1.0\n")
    assert before == ("nodedep==1.0", "TinyDep==1.0", "torch==2.5.1+cpu")
    after = ("tinydep==2.0", "torch==2.5.1+cpu", "extra @ file:///w/extra.whl")
    assert [c.describe() for c in diff_packages(before, after)] == [
        "+ extra file:///w/extra.whl",
        "- nodedep 1.0",
        "~ tinydep 1.0 → 2.0",
    ]


def test_node_differences() -> None:
    now = (NodeState("A", "shared", "a" * 40), NodeState("B", "shared", "b" * 40))
    then = (NodeState("A", "shared", "c" * 40), NodeState("C", "shared", "d" * 40))
    assert node_differences(now, then) == [
        f"A: {'a' * 12} → {'c' * 12}",
        f"C: enabled at {'d' * 12}",
        "B: disabled",
    ]


def test_snapshot_ids_are_unique_and_sorted(tmp_path: Path) -> None:
    paths = DataPaths(tmp_path)
    when = 1_800_000_000.0
    ids = []
    for i in range(3):
        snapshot_id = new_id(paths, "v1", when)
        ids.append(snapshot_id)
        save_snapshot(paths, Snapshot(snapshot_id, "v1", when + i / 10, "r", "c", (), ("a==1",)))
    assert ids == ["20270115-080000", "20270115-080000-2", "20270115-080000-3"]
    assert [s.id for s in list_snapshots(paths, "v1")] == ids[::-1]
    assert validate_snapshot_id("2027") == "2027"
    for bad in ("../x", "latest", "", "2027 01"):
        with pytest.raises(ValidationError):
            validate_snapshot_id(bad)

"""Custom-node installs take torch's family from the index the version's torch came from.

They never pass uv's ``--torch-backend`` (that reaches PyTorch's own index, which a box with
its own torch source may not reach); a credential in the index URL is never recorded.
"""

from __future__ import annotations

from pathlib import Path

from comfy_tui.core import install_plan as plan
from comfy_tui.services.nodes.uvtool import VenvTool

SOURCES = plan.Sources("https://pypi.example/simple", (), ())


def _tool() -> VenvTool:
    return VenvTool("uv", SOURCES, Path("/cache"), {})


def test_without_a_recorded_index_no_torch_backend_is_passed() -> None:
    py, req = Path("/v/.venv/bin/python"), Path("/n/requirements.txt")
    for argv in (
        _tool()._install_argv(py, req, None, "", dry_run=True, no_build=True),
        _tool()._sync_argv(py, req, "", dry_run=False),
    ):
        assert not any(a.startswith("--torch-backend") for a in argv)
        assert argv[argv.index("--index-url") + 1] == "https://pypi.example/simple"


def test_the_recorded_index_comes_first_then_the_sources() -> None:
    py, req = Path("/v/.venv/bin/python"), Path("/n/requirements.txt")
    url = "https://torch.example/whl/cu128"
    for argv in (
        _tool()._install_argv(py, req, None, url, dry_run=False, no_build=True),
        _tool()._sync_argv(py, req, url, dry_run=True),
    ):
        assert argv[argv.index("--extra-index-url") + 1] == url
        assert "https://pypi.example/simple" in argv
        assert not any(a.startswith("--torch-backend") for a in argv)


def test_an_index_with_a_credential_is_not_recorded() -> None:
    assert plan.recordable_index(None) == ""
    assert plan.recordable_index("https://torch.example/whl/cu128") == (
        "https://torch.example/whl/cu128"
    )
    assert plan.recordable_index("https://user:pw@torch.example/whl/cu128") == ""
    assert plan.recordable_index("https://torch.example/whl/cu128?token=abc") == ""

"""Torch source choice, uv output parsing and the build check (pure parts and the index probe)."""

from __future__ import annotations

import asyncio
import socket
import sys

import pytest
from aiohttp import web

from comfy_tui.core.install_plan import Sources, constraints_text
from comfy_tui.core.torch_build import TorchBuild, check_plan
from comfy_tui.core.uv_output import dry_run_plan, hint_lines, missing_upload_date
from comfy_tui.errors import InstallError, NetworkError
from comfy_tui.services.envs import ToolFailed, run_tool
from comfy_tui.services.torch_source import choose_torch_source, probe_index

UV_FAILURE = """\
warning: `pyyaml-6.0.3-cp311-cp311-manylinux2014_x86_64.whl` is missing an upload date, but user provided: 2025-12-04T00:00:00Z
error: No solution found when resolving dependencies
  cause: Because there are no versions of pyyaml and you require pyyaml, we can conclude that your requirements are unsatisfiable.

hint: `pyyaml` was filtered by `exclude-newer` to only include packages uploaded before 2025-12-04T00:00:00Z. The latest version satisfying the requirement is v6.0.3. Consider using `exclude-newer-package` to override the cutoff for this package.
help: `Tiny_Dep` was filtered by `exclude-newer` to only include packages
      uploaded before 2025-12-04T00:00:00Z.
""".splitlines()  # noqa: E501


def test_hints_are_kept_whole_and_undated_packages_found() -> None:
    hints = hint_lines(UV_FAILURE)
    assert len(hints) == 2
    assert hints[0].startswith("hint: `pyyaml` was filtered") and hints[0].endswith("package.")
    assert hints[1] == (
        "help: `Tiny_Dep` was filtered by `exclude-newer` to only include packages "
        "uploaded before 2025-12-04T00:00:00Z."
    )
    assert missing_upload_date(UV_FAILURE) == ["pyyaml", "tiny-dep"]


def test_dry_run_plan() -> None:
    lines = ["Would install 2 packages", " + torch==2.9.1+cpu", " + Typing_Extensions==4.15.0"]
    assert dry_run_plan(lines) == {"torch": "2.9.1+cpu", "typing-extensions": "4.15.0"}


async def test_a_failing_tool_shows_its_hints_in_full() -> None:
    script = (
        "print('error: it broke'); print('hint: do this instead, it works'); raise SystemExit(1)"
    )
    with pytest.raises(ToolFailed) as info:
        async for _ in run_tool([sys.executable, "-c", script], {}, "uv", "installing x"):
            pass
    assert str(info.value) == "installing x failed: it broke\n  hint: do this instead, it works"


def test_the_plan_check_refuses_mixed_and_wrong_labels() -> None:
    check_plan({"torch": "2.6.0", "torchvision": "0.21.0"}, "cu130")  # no labels: probe decides
    check_plan({"torch": "2.5.1+cu128", "torchvision": "0.20.1+cu128"}, "cu128")
    with pytest.raises(InstallError, match="mixed family"):
        check_plan({"torch": "2.5.1+cpu", "torchvision": "0.20.1+cu128"}, "cpu")
    with pytest.raises(InstallError, match="not a cu126 build"):
        check_plan({"torch": "2.5.1+cpu"}, "cu126")


def test_the_build_check_asks_torch_not_the_label() -> None:
    cuda13 = TorchBuild(version="2.9.1", cuda="13.0")
    assert cuda13.kind == "CUDA 13.0" and cuda13.check("cu130") == ""
    assert "runs on the CPU too" in cuda13.check("cpu")
    with pytest.raises(InstallError, match="newer than the cu128"):
        cuda13.check("cu128")
    with pytest.raises(InstallError, match="is a CPU build, not the cu130 build"):
        TorchBuild(version="2.9.1").check("cu130")
    with pytest.raises(InstallError, match="does not fit torch"):
        TorchBuild(version="2.9.1", torchvision_error="RuntimeError: operator").check("cpu")
    assert TorchBuild(version="2.5", hip="6.2.41133").kind == "ROCm 6.2"
    assert TorchBuild(error="ModuleNotFoundError").kind == ""


def test_constraints_pin_the_cuda_runtime_too() -> None:
    text = constraints_text(
        {"python": "3.11", "torch": "2.9.1", "nvidia-cublas-cu12": "12.8.4.1", "triton": "3.5.1",
         "numpy": "2.0"}
    )  # fmt: skip
    assert text.splitlines()[1:] == [
        "torch==2.9.1",
        "nvidia-cublas-cu12==12.8.4.1",
        "triton==3.5.1",
    ]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_the_probe_answers_quickly_either_way() -> None:
    app = web.Application()

    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<html></html>")

    app.router.add_get("/whl/cpu/", page)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        assert await probe_index(f"http://127.0.0.1:{port}/whl/cpu") == ""
        assert await probe_index(f"http://127.0.0.1:{port}/whl/cu128") == "HTTP 404"
    finally:
        await runner.cleanup()
    why = await asyncio.wait_for(probe_index(f"http://127.0.0.1:{_closed_port()}/whl"), 10)
    assert why


async def test_the_source_rules() -> None:
    async def down(url: str) -> str:
        return "connection refused"

    async def up(url: str) -> str:
        return ""

    web_sources = Sources(index_url="https://mirror.example/simple")
    kw = {"pytorch_index": "https://download.pytorch.org/whl/"}
    chosen = await choose_torch_source("cu130", web_sources, override=None, probe=up, **kw)
    assert chosen.url == "https://download.pytorch.org/whl/cu130"
    fallback = await choose_torch_source("cpu", web_sources, override=None, probe=down, **kw)
    assert fallback.url is None and "torch_index_url" in fallback.note
    with pytest.raises(NetworkError, match=r"set torch_index_url .*--torch-index sources"):
        await choose_torch_source("cu130", web_sources, override=None, probe=down, **kw)
    agreed = await choose_torch_source("cu130", web_sources, override="sources", probe=down, **kw)
    assert agreed.url is None
    mirror = "https://user:pw@torch.example/whl/cu130"
    own = await choose_torch_source("cu130", web_sources, override=mirror, probe=down, **kw)
    assert own.url == mirror and "pw" not in own.note
    air = await choose_torch_source("cu128", Sources(find_links=("/wh",)), override=None,
                                    probe=down, **kw)  # fmt: skip
    assert air.url is None

"""No `asyncio.wait_for` in comfy_tui: on Python 3.11 a cancel (Ctrl-C in a command) that
arrives in the loop step in which the awaited work finishes is lost, and `wait_for` returns the
result as if nothing happened. ``async with asyncio.timeout(t)`` keeps the cancel."""

from __future__ import annotations

import ast
from pathlib import Path

import comfy_tui

PACKAGE = Path(comfy_tui.__file__).parent


def wait_for_calls(path: Path) -> list[int]:
    """Lines of ``asyncio.wait_for(...)`` (or a bare ``wait_for`` imported from asyncio)."""
    tree = ast.parse(path.read_text(), str(path))
    imported = any(
        isinstance(node, ast.ImportFrom)
        and node.module == "asyncio"
        and any(alias.name == "wait_for" for alias in node.names)
        for node in ast.walk(tree)
    )
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "wait_for":
            if isinstance(func.value, ast.Name) and func.value.id == "asyncio":
                lines.append(node.lineno)
        elif isinstance(func, ast.Name) and func.id == "wait_for" and imported:
            lines.append(node.lineno)
    return lines


def test_no_module_awaits_with_asyncio_wait_for() -> None:
    found = {
        str(path.relative_to(PACKAGE)): lines
        for path in sorted(PACKAGE.rglob("*.py"))
        if (lines := wait_for_calls(path))
    }
    assert found == {}


def test_the_check_sees_both_spellings(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text(
        "import asyncio\nfrom asyncio import wait_for\n"
        "async def f(x):\n    await asyncio.wait_for(x, 1)\n    await wait_for(x, 1)\n"
    )
    assert wait_for_calls(source) == [4, 5]

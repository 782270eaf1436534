"""Which custom nodes a ComfyUI start-up loaded, read from its log lines. Pure.

ComfyUI (nodes.py, `init_external_custom_nodes`) logs, for a node that fails to import, the
traceback and ``Cannot import <path> module for custom nodes: <error>``, then a summary
``Import times for custom nodes:`` with one line per node: ``   0.1 seconds: <path>`` or
``   0.0 seconds (IMPORT FAILED): <path>``. A failed import is not fatal, so a start-up (or
`--quick-test-for-ci`) that passes may still have lost nodes: this tells which, and why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

__all__ = ["LOADED", "NodeLoad", "Status", "read_node_loads"]

Status = Literal["loaded", "import failed", "missing dependency", "not loaded"]
LOADED: Status = "loaded"

_CANNOT = re.compile(r"Cannot import (?P<path>.+?) module for custom nodes: (?P<error>.*)$")
_TIMES = re.compile(r"^\s*[0-9.]+ seconds(?P<failed> \(IMPORT FAILED\))?: (?P<path>.+?)\s*$")
_MISSING = re.compile(r"No module named '?(?P<module>[A-Za-z0-9_.]+)'?")


@dataclass(frozen=True)
class NodeLoad:
    """One node's fate: `status`, the error line when it failed, the module it lacked."""

    name: str
    status: Status
    error: str = ""
    missing: str = ""

    @property
    def ok(self) -> bool:
        return self.status == LOADED


def _name(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".py")


def read_node_loads(lines: Iterable[str], expected: Iterable[str] = ()) -> dict[str, NodeLoad]:
    """Node name -> NodeLoad for every node the log mentions and every `expected` name (a node
    the log never mentions is "not loaded")."""
    errors: dict[str, str] = {}
    seen: dict[str, bool] = {}
    for line in lines:
        text = line.rstrip()
        cannot = _CANNOT.search(text)
        if cannot:
            errors[_name(cannot["path"])] = cannot["error"].strip()
            continue
        timed = _TIMES.match(text)
        if timed:
            seen[_name(timed["path"])] = not timed["failed"]
    result: dict[str, NodeLoad] = {}
    for name in [*seen, *(n for n in errors if n not in seen)]:
        error = errors.get(name, "")
        if seen.get(name) and not error:
            result[name] = NodeLoad(name, "loaded")
            continue
        missing = _MISSING.search(error)
        if missing:
            result[name] = NodeLoad(name, "missing dependency", error, missing["module"])
        else:
            result[name] = NodeLoad(name, "import failed", error or "IMPORT FAILED")
    for name in expected:
        if name not in result:
            result[name] = NodeLoad(name, "not loaded", "ComfyUI did not try to load it")
    return result

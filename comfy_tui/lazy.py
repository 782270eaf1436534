"""`lazy_exports`: a package's names imported on first use (PEP 562), not when it loads.

A package that re-exports from its modules (`services/monitor`, `services/nodes`) builds its
`__getattr__` with this, so reading one submodule does not load the others (psutil, NVML), and
two packages that use each other's modules never import each other while half loaded.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """The `__getattr__` of `package`: name → the module it comes from (cached once read)."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__

"""Which node classes a ComfyUI checkout or a custom node registers, read from its source text,
and which repository provides a class, from a node map in ComfyUI-Manager's
``extension-node-map.json`` shape (``{repo_url: [[class, ...], {meta}]}``). Pure: text in.

Registration is found without importing anything: keys of a ``NODE_CLASS_MAPPINGS = {...}``
literal, ``NODE_CLASS_MAPPINGS["X"] = ...`` assignments, and ``node_id="X"`` of the newer
schema-based nodes. Good enough to tell "provided" from "missing"; never runs node code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

_MAPPING_BLOCK = re.compile(r"NODE_CLASS_MAPPINGS\s*(?::[^=]*)?=\s*\{(.*?)\n\s*\}", re.DOTALL)
_KEY = re.compile(r"""^\s*["']([^"'\n]+)["']\s*:""", re.MULTILINE)
_ASSIGN = re.compile(r"""NODE_CLASS_MAPPINGS\s*\[\s*["']([^"'\n]+)["']\s*\]\s*=""")
_NODE_ID = re.compile(r"""node_id\s*=\s*["']([^"'\n]+)["']""")

FRONTEND_ONLY = frozenset(
    {"Note", "MarkdownNote", "Reroute", "PrimitiveNode", "PrimitiveString", "GroupNode"}
)
"""UI-format node types that exist only in the web frontend (never a missing node)."""


def registered_classes(source: str) -> set[str]:
    """Node class names a Python source file registers."""
    found: set[str] = set()
    for block in _MAPPING_BLOCK.finditer(source):
        found.update(_KEY.findall(block.group(1)))
    found.update(_ASSIGN.findall(source))
    found.update(_NODE_ID.findall(source))
    return found


def parse_node_map(doc: object) -> dict[str, str]:
    """Class name → repository URL from an ``extension-node-map.json`` document (the first
    repository listed wins; entries of another shape are skipped)."""
    out: dict[str, str] = {}
    if not isinstance(doc, Mapping):
        return out
    for url, entry in doc.items():
        if not isinstance(url, str) or not url.startswith("https://"):
            continue
        if not isinstance(entry, list) or not entry or not isinstance(entry[0], list):
            continue
        for name in entry[0]:
            if isinstance(name, str) and name not in out:
                out[name] = url
    return out


def missing_classes(used: Iterable[str], provided: set[str]) -> list[str]:
    return sorted({c for c in used if c and c not in provided and c not in FRONTEND_ONLY})

"""Shared custom nodes enabled per version and their dependencies (environment snapshots of a
version are `services/envsnap/`).

Names are imported on first use (PEP 562): `services/envsnap/` uses this package's modules and
`service` uses envsnap, so loading this package must not load `service` first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from comfy_tui.lazy import lazy_exports

if TYPE_CHECKING:
    from comfy_tui.services.nodes.deps import DepsPlan
    from comfy_tui.services.nodes.links import OwnNode
    from comfy_tui.services.nodes.service import NodeInfo, NodesOverview, NodesService

_WHERE = {
    "DepsPlan": "comfy_tui.services.nodes.deps",
    "OwnNode": "comfy_tui.services.nodes.links",
    "NodeInfo": "comfy_tui.services.nodes.service",
    "NodesOverview": "comfy_tui.services.nodes.service",
    "NodesService": "comfy_tui.services.nodes.service",
}


__getattr__ = lazy_exports(__name__, _WHERE)


__all__ = ["DepsPlan", "NodeInfo", "NodesOverview", "NodesService", "OwnNode"]

"""Shared custom nodes enabled per version, their dependencies, and environment snapshots."""

from comfy_tui.services.nodes.deps import DepsPlan
from comfy_tui.services.nodes.links import OwnNode
from comfy_tui.services.nodes.service import NodeInfo, NodesOverview, NodesService

__all__ = ["DepsPlan", "NodeInfo", "NodesOverview", "NodesService", "OwnNode"]

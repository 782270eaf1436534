"""`InstancesCard`: CPU, RSS and VRAM of each ComfyUI instance's process tree."""

from __future__ import annotations

from collections.abc import Mapping

from textual.app import ComposeResult

from comfy_tui.services.monitor import InstanceUsage
from comfy_tui.services.monitor.text import instance_line
from comfy_tui.ui.widgets.card import Card, Line


class InstancesCard(Card):
    """One line per instance, named as the Instances feature names it; hidden when none."""

    def __init__(self) -> None:
        super().__init__("Instances", id="instances-card")
        self._lines = Line(classes="instance-lines")

    def compose(self) -> ComposeResult:
        yield self._lines

    def show(self, instances: Mapping[str, InstanceUsage], labels: Mapping[str, str]) -> None:
        """List ``instances`` (sorted by name); the card hides itself when there are none."""
        self.display = bool(instances)
        ordered = sorted(instances.items(), key=lambda item: labels.get(item[0], item[0]))
        self._lines.show("\n".join(instance_line(iid, u, labels) for iid, u in ordered))

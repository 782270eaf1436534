"""core/node_load.py: per-node results read from real ComfyUI's start-up lines."""

from __future__ import annotations

from comfy_tui.core.node_load import read_node_loads

LOG = """\
Traceback (most recent call last):
  File "/v/ComfyUI/nodes.py", line 2131, in load_custom_node
ImportError: cannot import name 'OLD' from 'comfy.x'
Cannot import /v/ComfyUI/custom_nodes/Fragile module for custom nodes: cannot import name 'OLD' \
from 'comfy.x'
Cannot import /v/ComfyUI/custom_nodes/Needy module for custom nodes: No module named 'sageattention'

Import times for custom nodes:
   0.0 seconds: /v/ComfyUI/custom_nodes/websocket_image_save.py
   0.1 seconds (IMPORT FAILED): /v/ComfyUI/custom_nodes/Fragile
   0.0 seconds (IMPORT FAILED): /v/ComfyUI/custom_nodes/Needy
   0.3 seconds: /v/ComfyUI/custom_nodes/Solid
"""


def test_statuses() -> None:
    loads = read_node_loads(LOG.splitlines(), ["Solid", "Fragile", "Needy", "Absent"])
    assert loads["Solid"].ok and loads["websocket_image_save"].ok
    assert loads["Fragile"].status == "import failed"
    assert loads["Fragile"].error == "cannot import name 'OLD' from 'comfy.x'"
    assert loads["Needy"].status == "missing dependency"
    assert loads["Needy"].missing == "sageattention"
    assert loads["Absent"].status == "not loaded"


def test_a_failure_without_the_summary_still_counts() -> None:
    loads = read_node_loads(
        ["Cannot import /x/custom_nodes/A.py module for custom nodes: boom"], []
    )
    assert loads["A"].status == "import failed" and loads["A"].error == "boom"

"""A Fleet screen with fixed host states (no SSH): three hosts, one busy, one slow, one
refusing its key, for snapshots that never change."""

from __future__ import annotations

import tempfile
from pathlib import Path

from comfy_tui import __version__
from comfy_tui.core.fleet_hosts import HostSpec
from comfy_tui.services.container import Services
from comfy_tui.services.fleet.service import Fleet
from comfy_tui.services.fleet.state import HostState, RemoteGpu, RemoteInstance
from comfy_tui.ui.app import ComfyTuiApp
from tests.ui.app_factory import make_test_app

GIB = 1024**3
HOSTS = (
    HostSpec("h100-a", "10.0.0.11", "me", 2222, tags=("gpu=h100", "lab")),
    HostSpec("h100-b", "10.0.0.12", "me", tags=("gpu=h100",)),
    HostSpec("a6000", "a6000", tags=("gpu=a6000",)),
)


def states() -> dict[str, HostState]:
    a, b, c = HOSTS
    gpus = tuple(
        RemoteGpu(i, "NVIDIA H100 80GB HBM3", 40.0 + i * 20, 30 * GIB, 80 * GIB) for i in range(2)
    )
    return {
        a.name: HostState(
            a.name,
            a.target,
            a.tags,
            "ok",
            version=__version__,
            gpus=gpus,
            instances=(
                RemoteInstance(
                    "c4a1f0", "v0.3.77", "running", 8188, 0, "KSampler 14/30 · 2 queued"
                ),
                RemoteInstance("9b2e11", "v0.3.76", "running", 8189, 1, "idle"),
            ),
            disk_free_bytes=812 * GIB,
            forwards={8188: 40123},
        ),
        b.name: HostState(b.name, b.target, b.tags, "slow", error="h100-b: no answer within 15s"),
        c.name: HostState(
            c.name,
            c.target,
            c.tags,
            "refused",
            error=(
                "a6000: refused a6000: unknown host key (not in known_hosts), offered "
                "SHA256:8HL26zKvYrlvETzaiVLxrxCRBhYIi7mhBOXPTvd1sTQ; if that is the host's key, "
                "add it with: ssh-keyscan a6000 >> ~/.ssh/known_hosts"
            ),
        ),
    }


LOG = [
    "Starting server",
    "To see the GUI go to: http://127.0.0.1:8188",
    "got prompt",
    "Traceback (most recent call last):",
    '  File "/srv/comfy-tui/versions/v0.3.77/ComfyUI/execution.py", line 327, in execute'
    "    output_data, output_ui, has_subgraph = get_output_data(obj, input_data_all)",
    "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.",
    "Prompt executed in 14.21 seconds",
]
"""A remote instance's log: a line longer than any screen, for the wrapped view."""


class FixedFleet(Fleet):
    """Answers every status look with `states()` and every log read with `LOG`."""

    async def status(self, spec: HostSpec) -> HostState:
        return states()[spec.name]

    async def logs(self, host: str, instance: str, lines: int = 200) -> list[str]:
        return LOG[-lines:]


def fixed_app() -> ComfyTuiApp:
    def swap(built: Services) -> Services:
        built.fleet = FixedFleet(HOSTS)
        return built

    data = Path(tempfile.mkdtemp(prefix="comfy-tui-fleet-")) / "data"
    return make_test_app(data, settings={"hosts": HOSTS}, services=swap)

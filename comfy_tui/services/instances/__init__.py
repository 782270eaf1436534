"""Instances: launch, watch, stop and reattach to ComfyUI processes that outlive comfy-tui.

Kept import-light on purpose: the detached supervisor (`supervisor.py`) runs as
`python -m comfy_tui.services.instances.supervisor` and must start fast. Import the parts
from their modules: `service.InstancesService`, `requests.LaunchRequest`, ...
"""

"""API-format workflows the fake ComfyUI runs (see tests/fakes/comfyui/fake_jobs.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def txt2img(
    steps: int = 4, prefix: str = "ComfyUI", hold_file: str | None = None
) -> dict[str, Any]:
    """Load a checkpoint, sample `steps` steps, save one image."""
    sampler: dict[str, Any] = {"steps": steps, "seed": 1, "model": ["1", 0]}
    if hold_file:
        sampler["hold_file"] = hold_file
    return {
        "1": {
            "class_type": "CheckpointLoaderSimple",
            "inputs": {"ckpt_name": "sd15.safetensors"},
            "_meta": {"title": "Load Checkpoint"},
        },
        "3": {"class_type": "KSampler", "inputs": sampler, "_meta": {"title": "KSampler"}},
        "9": {
            "class_type": "SaveImage",
            "inputs": {"filename_prefix": prefix, "images": ["3", 0]},
            "_meta": {"title": "Save Image"},
        },
    }


def failing() -> dict[str, Any]:
    """Fails at node 5 with an execution_error."""
    flow = txt2img(steps=2)
    flow["5"] = {"class_type": "FakeError", "inputs": {"message": "CUDA out of memory"}}
    return flow


def bad_checkpoint() -> dict[str, Any]:
    """Refused by `/prompt`: node 1's checkpoint is not in the list."""
    flow = txt2img()
    flow["1"]["inputs"]["ckpt_name"] = "missing.safetensors"
    return flow


def write(path: Path, flow: dict[str, Any]) -> Path:
    path.write_text(json.dumps(flow))
    return path

"""Asking a running ComfyUI to do things: queue a workflow (`POST /prompt`), free memory
(`POST /free`), read a prompt's history and copy its output files (`/view`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

from comfy_tui.errors import NetworkError, NotFoundError, ValidationError
from comfy_tui.services.instances.health import MAX_BODY
from comfy_tui.services.jobs.client import http_session

TIMEOUT = aiohttp.ClientTimeout(total=30.0)


class PromptRejected(ValidationError):
    """ComfyUI refused the workflow; `lines` has one line per problem (per node)."""

    def __init__(self, message: str, lines: list[str]) -> None:
        super().__init__(message)
        self.lines = lines


def load_workflow(path: Path) -> dict[str, Any]:
    """An API-format workflow from a file (blocking); anything else is a ValidationError."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ValidationError(f"{path}: no such file") from exc
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ValidationError(f"{path}: not a JSON workflow ({exc})") from exc
    if isinstance(data, dict) and isinstance(data.get("nodes"), list):
        raise ValidationError(
            f"{path} is a UI-format workflow; export it from ComfyUI with "
            "'Export (API)' and run that file"
        )
    if isinstance(data, dict) and isinstance(data.get("prompt"), dict):
        data = data["prompt"]
    ok = (
        isinstance(data, dict)
        and data
        and all(
            isinstance(node, dict) and isinstance(node.get("class_type"), str)
            for node in data.values()
        )
    )
    if not ok:
        raise ValidationError(
            f"{path} is not an API-format workflow (an object of nodes with class_type)"
        )
    assert isinstance(data, dict)
    return data


def rejection_lines(answer: Any, workflow: Mapping[str, Any]) -> list[str]:
    """One line per problem of a `/prompt` 400 answer: the error, then each node's errors."""
    lines: list[str] = []
    if not isinstance(answer, Mapping):
        return ["ComfyUI refused the workflow"]
    error = answer.get("error")
    if isinstance(error, Mapping):
        text = str(error.get("message") or error.get("type") or "refused")
        details = str(error.get("details") or "")
        lines.append(f"{text}: {details}" if details else text)
    elif error:
        lines.append(str(error))
    node_errors = answer.get("node_errors")
    for node_id, info in node_errors.items() if isinstance(node_errors, Mapping) else []:
        if not isinstance(info, Mapping):
            continue
        node = workflow.get(node_id)
        cls = info.get("class_type") or (
            node.get("class_type") if isinstance(node, Mapping) else ""
        )
        for problem in info.get("errors") or []:
            if isinstance(problem, Mapping):
                what = str(problem.get("message") or problem.get("type") or "error")
                details = str(problem.get("details") or "")
                lines.append(
                    f"node {node_id} ({cls}): {what}" + (f": {details}" if details else "")
                )
    return lines or ["ComfyUI refused the workflow"]


async def _read_json(resp: aiohttp.ClientResponse) -> Any:
    body = await resp.content.read(MAX_BODY * 16 + 1)
    try:
        return json.loads(body) if body else None
    except ValueError:
        return None


async def queue_prompt(
    url: str, workflow: Mapping[str, Any], client_id: str | None = None
) -> tuple[str, int]:
    """Queue `workflow`; returns (prompt_id, number). Raises PromptRejected with ComfyUI's
    reasons, node by node."""
    body: dict[str, Any] = {"prompt": dict(workflow)}
    if client_id:
        body["client_id"] = client_id
    try:
        async with (
            http_session() as session,
            session.post(f"{url}/prompt", json=body, timeout=TIMEOUT) as resp,
        ):
            answer = await _read_json(resp)
            status = resp.status
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise NetworkError(f"cannot reach ComfyUI at {url} ({exc or type(exc).__name__})") from exc
    if status != 200 or not isinstance(answer, Mapping) or "prompt_id" not in answer:
        lines = rejection_lines(answer, workflow)
        raise PromptRejected(f"ComfyUI refused the workflow: {lines[0]}", lines)
    return str(answer["prompt_id"]), int(answer.get("number") or 0)


async def free_memory(url: str) -> None:
    """Ask ComfyUI to unload its models and free memory (after the running prompt)."""
    body = {"unload_models": True, "free_memory": True}
    try:
        async with (
            http_session() as session,
            session.post(f"{url}/free", json=body, timeout=TIMEOUT) as resp,
        ):
            if resp.status != 200:
                raise NetworkError(f"ComfyUI at {url} answered /free with HTTP {resp.status}")
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise NetworkError(f"cannot reach ComfyUI at {url} ({exc or type(exc).__name__})") from exc


def output_items(entry: Any) -> list[dict[str, str]]:
    """Every output file of a `/history` entry: {filename, subfolder, type}."""
    items: list[dict[str, str]] = []
    outputs = entry.get("outputs") if isinstance(entry, Mapping) else None
    for ui in outputs.values() if isinstance(outputs, Mapping) else []:
        for files in ui.values() if isinstance(ui, Mapping) else []:
            for item in files if isinstance(files, list) else []:
                if isinstance(item, Mapping) and isinstance(item.get("filename"), str):
                    items.append(
                        {
                            "filename": str(item["filename"]),
                            "subfolder": str(item.get("subfolder") or ""),
                            "type": str(item.get("type") or "output"),
                        }
                    )
    return items


async def history_entry(url: str, prompt_id: str) -> Mapping[str, Any]:
    try:
        async with (
            http_session() as session,
            session.get(f"{url}/history/{prompt_id}", timeout=TIMEOUT) as resp,
        ):
            answer = await _read_json(resp)
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise NetworkError(f"cannot reach ComfyUI at {url} ({exc or type(exc).__name__})") from exc
    entry = answer.get(prompt_id) if isinstance(answer, Mapping) else None
    if not isinstance(entry, Mapping):
        raise NotFoundError(f"ComfyUI at {url} has no prompt {prompt_id} in its history")
    return entry


def _safe_name(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/"))
    if base in ("", ".", ".."):
        raise ValidationError(f"ComfyUI named an output file {name!r}; refusing to write it")
    return base


async def copy_outputs(url: str, prompt_id: str, dest: Path) -> list[Path]:
    """Copy every output file of `prompt_id` into `dest` (through `/view`); returns the paths.
    Each file is written as `.part` and renamed when complete."""
    entry = await history_entry(url, prompt_id)
    items = output_items(entry)
    dest.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    async with http_session() as session:
        for item in items:
            target = dest / _safe_name(item["filename"])
            part = target.with_name(target.name + ".part")
            query = urlencode(item)
            try:
                async with session.get(f"{url}/view?{query}", timeout=TIMEOUT) as resp:
                    if resp.status != 200:
                        raise NetworkError(
                            f"{item['filename']}: ComfyUI answered HTTP {resp.status}"
                        )
                    with part.open("wb") as f:
                        async for chunk in resp.content.iter_chunked(1 << 20):
                            f.write(chunk)
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                part.unlink(missing_ok=True)
                raise NetworkError(f"{item['filename']}: copy failed ({exc})") from exc
            part.replace(target)
            written.append(target)
    return written

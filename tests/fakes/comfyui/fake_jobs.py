"""The fake ComfyUI's job side: a prompt queue, `/ws` (a minimal websocket server) and the
messages ComfyUI sends while it runs a prompt (standard library only).

Message shapes and addressing follow ComfyUI's server.py / execution.py / main.py:
`status` goes to everyone (and to a new socket with its `sid`); `executing`, `progress` and
`executed` go to the prompt's `client_id`, or to every socket when the prompt has none;
`execution_start`, `execution_cached`, `execution_success` and `execution_error` go only to
the prompt's `client_id` (nowhere without one), and the final `executing` with `node: null`
too. Every `add_message` event is kept in `/history`'s `status.messages`.

How a prompt runs: nodes in their order; a node with an integer `steps` input sends that many
`progress` messages (FAKE_COMFYUI_STEP_DELAY seconds apart; a `hold_file` input pauses halfway
until that file exists); `SaveImage` writes `<filename_prefix>_00001_.png` to the output folder
and reports it in `executed`; class `FakeError` fails with an `execution_error`.
FAKE_COMFYUI_WS_LEGACY (any value) plays an old version: no `execution_*` messages at all.
FAKE_COMFYUI_NO_WS (any value): `/ws` answers 404.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import socket
import struct
import sys
import threading
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
KNOWN_CHECKPOINTS = ["sd15.safetensors", "sdxl.safetensors"]


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class Hub:
    """Sockets by client id, the queue, the history and the worker thread."""

    def __init__(self, output_dir: Path) -> None:
        self.output_dir = output_dir
        self.lock = threading.Lock()
        self.sockets: dict[str, tuple[socket.socket, threading.Lock]] = {}
        self.queue: list[list[Any]] = []
        self.running: list[Any] | None = None
        self.history: dict[str, Any] = {}
        self.number = 0
        self.client_id: str | None = None
        self.wake = threading.Condition(self.lock)
        self.flags: dict[str, bool] = {}
        self.legacy = bool(os.environ.get("FAKE_COMFYUI_WS_LEGACY"))
        threading.Thread(target=self._worker, daemon=True).start()

    # --- sending ------------------------------------------------------------------------
    def send(self, event: str, data: Any, sid: str | None = None) -> None:
        message = json.dumps({"type": event, "data": data}).encode()
        with self.lock:
            if sid is None:
                targets = list(self.sockets.values())
            else:
                targets = [self.sockets[sid]] if sid in self.sockets else []
        for conn, send_lock in targets:
            with send_lock, contextlib.suppress(OSError):
                conn.sendall(frame(message))

    def queue_info(self) -> dict[str, Any]:
        with self.lock:
            remaining = len(self.queue) + (1 if self.running else 0)
        return {"exec_info": {"queue_remaining": remaining}}

    def queue_updated(self) -> None:
        self.send("status", {"status": self.queue_info()})

    # --- the queue ------------------------------------------------------------------------
    def put(self, prompt: dict[str, Any], client_id: str | None) -> tuple[str, int]:
        prompt_id = str(uuid.uuid4())
        with self.lock:
            number = self.number
            self.number += 1
            extra = {"client_id": client_id} if client_id else {}
            outputs = [k for k, v in prompt.items() if v.get("class_type") == "SaveImage"]
            self.queue.append([number, prompt_id, prompt, extra, outputs])
            self.wake.notify_all()
        self.queue_updated()
        return prompt_id, number

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            running = [self.running] if self.running else []
            return {"queue_running": running, "queue_pending": list(self.queue)}

    def _worker(self) -> None:
        while True:
            with self.lock:
                while not self.queue:
                    self.wake.wait()
                self.running = self.queue.pop(0)
                item = self.running
            began = time.perf_counter()
            try:
                self._execute(item)
            except Exception:  # keep serving; the test sees the trace in the log
                log(traceback.format_exc())
            with self.lock:
                self.running = None
            if item[3].get("client_id"):
                self.send("executing", {"node": None, "prompt_id": item[1]}, item[3]["client_id"])
            log(f"Prompt executed in {time.perf_counter() - began:.2f} seconds")
            self.queue_updated()
            with self.lock:
                flags, self.flags = self.flags, {}
            if flags:
                log(f"freeing memory: {', '.join(sorted(flags))}")

    def _execute(self, item: list[Any]) -> None:
        number, prompt_id, prompt, extra, _outputs = item
        client_id: str | None = extra.get("client_id")
        messages: list[list[Any]] = []

        def add_message(event: str, data: dict[str, Any]) -> None:
            if self.legacy:
                return
            data = {**data, "timestamp": int(time.time() * 1000)}
            messages.append([event, data])
            if client_id is not None:
                self.send(event, data, client_id)

        add_message("execution_start", {"prompt_id": prompt_id})
        add_message("execution_cached", {"nodes": [], "prompt_id": prompt_id})
        outputs: dict[str, Any] = {}
        executed: list[str] = []
        ok = True
        for node_id, node in prompt.items():
            self.send(
                "executing",
                {"node": node_id, "display_node": node_id, "prompt_id": prompt_id},
                client_id,
            )
            inputs = node.get("inputs", {})
            if node.get("class_type") == "FakeError":
                ok = False
                add_message(
                    "execution_error",
                    {
                        "prompt_id": prompt_id,
                        "node_id": node_id,
                        "node_type": "FakeError",
                        "executed": executed,
                        "exception_message": str(inputs.get("message", "it failed on purpose")),
                        "exception_type": "RuntimeError",
                        "traceback": ['  File "nodes.py", line 1, in run\n'],
                        "current_inputs": {},
                        "current_outputs": [],
                    },
                )
                break
            steps = inputs.get("steps")
            if isinstance(steps, int) and steps > 0:
                self._steps(steps, inputs, prompt_id, node_id, client_id)
            if node.get("class_type") == "SaveImage":
                name = f"{inputs.get('filename_prefix', 'ComfyUI')}_{number + 1:05d}_.png"
                self.output_dir.mkdir(parents=True, exist_ok=True)
                (self.output_dir / name).write_bytes(b"\x89PNG fake image " + name.encode())
                ui = {"images": [{"filename": name, "subfolder": "", "type": "output"}]}
                outputs[node_id] = ui
                self.send(
                    "executed",
                    {
                        "node": node_id,
                        "display_node": node_id,
                        "output": ui,
                        "prompt_id": prompt_id,
                    },
                    client_id,
                )
            executed.append(node_id)
        if ok:
            add_message("execution_success", {"prompt_id": prompt_id})
        with self.lock:
            self.history[prompt_id] = {
                "prompt": item,
                "outputs": outputs,
                "status": {
                    "status_str": "success" if ok else "error",
                    "completed": ok,
                    "messages": messages,
                },
                "meta": {},
            }

    def _steps(
        self,
        steps: int,
        inputs: dict[str, Any],
        prompt_id: str,
        node_id: str,
        client_id: str | None,
    ) -> None:
        delay = float(os.environ.get("FAKE_COMFYUI_STEP_DELAY", "0.01"))
        hold = inputs.get("hold_file")
        for value in range(1, steps + 1):
            progress = {"value": value, "max": steps, "prompt_id": prompt_id, "node": node_id}
            if self.legacy:
                progress = {"value": value, "max": steps}
            self.send("progress", progress, client_id)
            if hold and value == steps // 2:
                while not Path(hold).exists():
                    time.sleep(0.02)
            time.sleep(delay)


def validate(prompt: Any) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """ComfyUI's answer shape for a bad prompt: (error, node_errors), or (None, {}) if fine."""
    if not isinstance(prompt, dict) or not prompt:
        return {
            "type": "invalid_prompt",
            "message": "Cannot execute because the prompt is empty",
        }, {}
    node_errors: dict[str, Any] = {}
    for node_id, node in prompt.items():
        if not isinstance(node, dict) or "class_type" not in node:
            message = (
                "Cannot execute because a node is missing the class_type property.: "
                f"Node ID '#{node_id}'"
            )
            return {"type": "invalid_prompt", "message": message}, {}
        ckpt = node.get("inputs", {}).get("ckpt_name")
        if ckpt is not None and ckpt not in KNOWN_CHECKPOINTS:
            node_errors[node_id] = {
                "errors": [
                    {
                        "type": "value_not_in_list",
                        "message": "Value not in list",
                        "details": f"ckpt_name: '{ckpt}' not in {KNOWN_CHECKPOINTS}",
                        "extra_info": {"input_name": "ckpt_name"},
                    }
                ],
                "dependent_outputs": [],
                "class_type": node["class_type"],
            }
    if node_errors:
        return {
            "type": "prompt_outputs_failed_validation",
            "message": "Prompt outputs failed validation",
            "details": "",
            "extra_info": {},
        }, node_errors
    if not any(n.get("class_type") == "SaveImage" for n in prompt.values()):
        return {"type": "prompt_no_outputs", "message": "Prompt has no outputs"}, {}
    return None, {}


# --- websocket framing ----------------------------------------------------------------------
def frame(payload: bytes, opcode: int = 0x1) -> bytes:
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x80 | opcode, n)
    elif n < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 126, n)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 127, n)
    return header + payload


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def read_frames(conn: socket.socket) -> None:
    """Read (and drop) what the client sends until it closes."""
    f = conn.makefile("rb")
    while True:
        head = f.read(2)
        if len(head) < 2:
            return
        opcode, length = head[0] & 0x0F, head[1] & 0x7F
        if length == 126:
            length = struct.unpack("!H", f.read(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", f.read(8))[0]
        mask = f.read(4) if head[1] & 0x80 else b""
        f.read(length)
        if opcode == 0x8:
            return
        del mask


def serve_websocket(handler: Any, hub: Hub, sid: str) -> None:
    """Finish the upgrade on `handler`'s connection, register it, and block until it closes."""
    key = handler.headers.get("Sec-WebSocket-Key", "")
    handler.send_response(101, "Switching Protocols")
    handler.send_header("Upgrade", "websocket")
    handler.send_header("Connection", "Upgrade")
    handler.send_header("Sec-WebSocket-Accept", accept_key(key))
    handler.end_headers()
    handler.wfile.flush()
    conn: socket.socket = handler.connection
    with hub.lock:
        hub.sockets[sid] = (conn, threading.Lock())
    try:
        hub.send("status", {"status": hub.queue_info(), "sid": sid}, sid)
        read_frames(conn)
    except OSError:
        pass
    finally:
        with hub.lock:
            if hub.sockets.get(sid, (None,))[0] is conn:
                del hub.sockets[sid]
        handler.close_connection = True

"""A tiny stand-in for ComfyUI's main.py, used by the tests (standard library only).

It behaves like the real thing where a launcher can tell: argparse flags (an unknown flag exits
2 at once), `--help`, `--quick-test-for-ci`, the "To see the GUI go to" line, `/system_stats`
(echoing argv), `/queue`, `/models/<folder>` (the model files it can load: its own `models/`
plus what its `--extra-model-paths-config` files list, read as ComfyUI reads them), every route
also under `/api`, exit 1 on a taken port, a clean exit 0
on SIGINT and an immediate death on SIGTERM. `/object_info` lists a few core node classes
plus the NODE_CLASS_MAPPINGS of every `custom_nodes/<name>` it imports (once, on the first
ask; a node that fails to import is left out, as ComfyUI does). The flags it accepts come
from `fake_features.py`, so a test repo can give each tag a different set. Environment knobs
for tests:
FAKE_COMFYUI_STARTUP_DELAY (seconds before binding), FAKE_COMFYUI_FOLDER_PATHS (the JSON that
`/internal/folder_paths` answers; without it that route is 404, as on old versions),
FAKE_COMFYUI_CRASH_AFTER (seconds, then exit 1), FAKE_COMFYUI_FAIL_WITH (a line to log before
exiting 1 at startup), FAKE_COMFYUI_FAIL_ON_VERSION (a version, e.g. `0.4.0`: FAIL_WITH's
behaviour only when this is that version), FAKE_COMFYUI_IGNORE_SIGINT (any value: SIGINT is
ignored, only SIGKILL stops it), FAKE_COMFYUI_STUBBORN_CHILD (`group` or `own-group`: start
a child that ignores SIGINT, like a custom node's worker, in ComfyUI's process group or in a
group of its own).
Custom nodes in `custom_nodes/` are imported at start-up and by `--quick-test-for-ci`, with
real ComfyUI's log lines (`Cannot import … module for custom nodes: …`, `Import times for custom
nodes:`, ` (IMPORT FAILED)`); a failed one is not fatal. The job side (`POST /prompt`, `/ws`,
`/history`, `/view`, `POST /free`) lives in
`fake_jobs.py`, with its own knobs. `GET /manager/reboot` acts like
ComfyUI-Manager's Restart: with `__COMFY_CLI_SESSION__` set it writes `<value>.reboot` and exits
0, otherwise it re-executes itself in place.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from comfyui_version import __version__  # noqa: E402
from fake_features import FLAGS  # noqa: E402
from fake_jobs import Hub, serve_websocket, validate  # noqa: E402

HUB: Hub | None = None
MODEL_DIRS: dict[str, list[str]] = {}
"""Folder type -> directories searched for it (what `--extra-model-paths-config` added)."""
MODEL_SUFFIXES = (".safetensors", ".ckpt", ".pt", ".pth", ".bin", ".gguf", ".sft")
CORE_CLASSES = ("CheckpointLoaderSimple", "CLIPTextEncode", "EmptyLatentImage", "KSampler",
                "LoraLoader", "SaveImage", "VAEDecode", "VAELoader")  # fmt: skip
_OBJECT_INFO: dict[str, dict[str, str]] = {}


def object_info() -> dict[str, dict[str, str]]:
    """Core classes and those of the custom nodes, imported once like ComfyUI does."""
    if not _OBJECT_INFO:
        found = {name: "comfy" for name in CORE_CLASSES}
        nodes = HERE / "custom_nodes"
        for entry in sorted(nodes.iterdir()) if nodes.is_dir() else ():
            init = entry / "__init__.py"
            if entry.name.endswith(".disabled") or not init.is_file():
                continue
            try:
                spec = importlib.util.spec_from_file_location(f"fake_node_{entry.name}", init)
                assert spec is not None and spec.loader is not None
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                found.update({k: entry.name for k in getattr(module, "NODE_CLASS_MAPPINGS", {})})
            except Exception as exc:  # as ComfyUI: report the node and go on
                log(f"Cannot import {entry} module for custom nodes: {exc}")
        _OBJECT_INFO.update(found)
    return {name: {"name": name, "python_module": where} for name, where in _OBJECT_INFO.items()}


def read_model_paths(configs: list[str]) -> dict[str, list[str]]:
    """ComfyUI's folder lists from its own models/ and the given YAML files (the block-scalar
    form comfy-tui writes; `is_default` sections go in front, as ComfyUI's loader does)."""
    own = HERE / "models"
    found = {p.name: [str(p)] for p in sorted(own.iterdir()) if p.is_dir()} if own.is_dir() else {}
    for config in configs:
        sections: list[tuple[bool, dict[str, list[str]]]] = []
        key = ""
        for line in Path(config).read_text().splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            if not line.startswith(" "):
                sections.append((False, {}))
            elif line.startswith("    ") and key:
                sections[-1][1][key].append(line.strip())
            else:
                key, _, value = line.strip().partition(":")
                if key == "is_default":
                    sections[-1] = (value.strip() == "true", sections[-1][1])
                    key = ""
                else:
                    sections[-1][1][key] = [] if value.strip() == "|" else [value.strip()]
        for is_default, folders in sections:
            for folder, dirs in folders.items():
                for d in dirs:
                    known = found.setdefault(folder, [])
                    if is_default:
                        known.insert(0, d)
                    else:
                        known.append(d)
    return found


def model_files(folder: str) -> list[str]:
    names: set[str] = set()
    for d in MODEL_DIRS.get(folder, []):
        for path in Path(d).rglob("*") if os.path.isdir(d) else ():
            if path.is_file() and path.name.endswith(MODEL_SUFFIXES):
                names.add(str(path.relative_to(d)))
    return sorted(names)


def _existing_dir(value: str) -> str:
    if not os.path.isdir(value):
        raise argparse.ArgumentTypeError(f"directory {value} does not exist")
    return value


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="main.py")
    known = {
        "--listen": dict(type=str, default="127.0.0.1", nargs="?", const="0.0.0.0,::"),
        "--port": dict(type=int, default=8188),
        "--cuda-device": dict(type=str, default=None),
        "--cpu": dict(action="store_true"),
        "--disable-auto-launch": dict(action="store_true"),
        "--extra-model-paths-config": dict(type=str, nargs="+", action="append"),
        "--base-directory": dict(type=str),
        "--user-directory": dict(type=_existing_dir),
        "--database-url": dict(type=str),
        "--temp-directory": dict(type=str),
        "--output-directory": dict(type=str),
        "--input-directory": dict(type=str),
        "--quick-test-for-ci": dict(action="store_true"),
        "--dont-print-server": dict(action="store_true"),
        "--verbose": dict(type=str, nargs="?", const="DEBUG"),
        "--lowvram": dict(action="store_true"),
        "--enable-manager": dict(action="store_true"),
    }
    for flag in FLAGS:
        p.add_argument(flag, **known.get(flag, dict(action="store_true")))
    return p


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def torch_version() -> str:
    try:
        import torch  # type: ignore[import-not-found]

        return str(torch.__version__)
    except ImportError:
        return ""


class Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # quiet
        return

    def _send(self, body: object, status: int = 200) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _query(self) -> dict[str, str]:
        from urllib.parse import parse_qsl

        return dict(parse_qsl(self.path.partition("?")[2]))

    def _body(self) -> object:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            return json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            return None

    def do_POST(self) -> None:
        path = self.path.split("?")[0]
        if path.startswith("/api/"):
            path = path[4:]
        assert HUB is not None
        body = self._body()
        if path == "/prompt":
            if not isinstance(body, dict) or "prompt" not in body:
                self._send(
                    {
                        "error": {"type": "no_prompt", "message": "No prompt provided"},
                        "node_errors": {},
                    },
                    400,
                )
                return
            error, node_errors = validate(body["prompt"])
            if error is not None:
                self._send({"error": error, "node_errors": node_errors}, 400)
                return
            prompt_id, number = HUB.put(body["prompt"], body.get("client_id"))
            self._send({"prompt_id": prompt_id, "number": number, "node_errors": {}})
        elif path == "/free":
            if isinstance(body, dict):
                for flag in ("unload_models", "free_memory"):
                    if body.get(flag):
                        HUB.flags[flag] = True
                log(f"/free asked: {json.dumps(body, sort_keys=True)}")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._send({"error": "not found"}, 404)

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path.startswith("/api/"):
            path = path[4:]
        assert HUB is not None
        if path == "/ws" and not os.environ.get("FAKE_COMFYUI_NO_WS"):
            sid = self._query().get("clientId") or os.urandom(16).hex()
            serve_websocket(self, HUB, sid)
            return
        if path == "/view":
            q = self._query()
            base = HUB.output_dir.resolve()
            target = (base / q.get("subfolder", "") / q.get("filename", "")).resolve()
            if (
                q.get("type", "output") != "output"
                or not target.is_relative_to(base)
                or not target.is_file()
            ):
                self._send({"error": "not found"}, 404)
                return
            data = target.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if path.startswith("/history/"):
            wanted = path.removeprefix("/history/")
            with HUB.lock:
                self._send({wanted: HUB.history[wanted]} if wanted in HUB.history else {})
            return
        if path == "/system_stats":
            self._send(
                {
                    "system": {
                        "os": sys.platform,
                        "comfyui_version": __version__,
                        "python_version": platform.python_version(),
                        "pytorch_version": torch_version(),
                        "embedded_python": False,
                        "argv": sys.argv,
                        "ram_total": 1,
                        "ram_free": 1,
                    },
                    "devices": [],
                }
            )
        elif path == "/queue":
            self._send(HUB.snapshot())
        elif path == "/object_info":
            self._send(object_info())
        elif path.startswith("/models/"):
            self._send(model_files(path.removeprefix("/models/")))
        elif path == "/internal/folder_paths" and "FAKE_COMFYUI_FOLDER_PATHS" in os.environ:
            self._send(json.loads(os.environ["FAKE_COMFYUI_FOLDER_PATHS"]))
        elif path == "/history":
            with HUB.lock:
                items = list(HUB.history.items())
            wanted = self._query().get("max_items")
            self._send(dict(items[-int(wanted) :] if wanted else items))
        elif path == "/manager/reboot":
            self._send({})
            threading.Thread(target=manager_reboot, daemon=True).start()
        else:
            self._send({"error": "not found"}, 404)


def manager_reboot() -> None:
    """What ComfyUI-Manager's Restart does: marker + exit under a supervisor, else execv."""
    time.sleep(0.1)  # let the answer go out
    session = os.environ.get("__COMFY_CLI_SESSION__")
    if session:
        Path(session + ".reboot").write_text("")
        log("Restarting... [via marker]")
        os._exit(0)
    log("Restarting... [via execv]")
    os.execv(sys.executable, [sys.executable, *sys.argv])


def load_custom_nodes() -> None:
    """Import every custom node as real ComfyUI does (nodes.py: init_external_custom_nodes)."""
    import importlib.util
    import traceback

    folder = HERE / "custom_nodes"
    if not folder.is_dir():
        return
    times = []
    for entry in sorted(os.listdir(os.path.realpath(folder))):
        path = folder / entry
        if entry == "__pycache__" or entry.endswith(".disabled"):
            continue
        if path.is_file() and path.suffix != ".py":
            continue
        started = time.perf_counter()
        name = entry.removesuffix(".py")
        try:
            init = path / "__init__.py" if path.is_dir() else path
            places = [str(path)] if path.is_dir() else None
            spec = importlib.util.spec_from_file_location(
                name, init, submodule_search_locations=places
            )
            assert spec is not None and spec.loader is not None
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module
            spec.loader.exec_module(module)
            ok = getattr(module, "NODE_CLASS_MAPPINGS", None) is not None
            if not ok:
                log(f"Skip {path} module for custom nodes due to the lack of NODE_CLASS_MAPPINGS.")
        except Exception as exc:
            log(traceback.format_exc())
            log(f"Cannot import {path} module for custom nodes: {exc}")
            ok = False
        times.append((time.perf_counter() - started, str(path), ok))
    if times:
        log("\nImport times for custom nodes:")
        for seconds, where, ok in sorted(times):
            log("{:6.1f} seconds{}: {}".format(seconds, "" if ok else " (IMPORT FAILED)", where))
        log("")


def main() -> int:
    args = build_parser().parse_args()
    log(f"ComfyUI version: {__version__}")
    if args.quick_test_for_ci:
        for req in (HERE / "requirements.txt").read_text().split():
            __import__(req.replace("-", "_"))
        load_custom_nodes()
        log("quick test passed")
        return 0
    failing = os.environ.get("FAKE_COMFYUI_FAIL_ON_VERSION")
    if os.environ.get("FAKE_COMFYUI_FAIL_WITH") and failing in (None, __version__):
        log(os.environ["FAKE_COMFYUI_FAIL_WITH"])
        return 1
    load_custom_nodes()
    time.sleep(float(os.environ.get("FAKE_COMFYUI_STARTUP_DELAY", "0")))
    global HUB
    out_dir = getattr(args, "output_directory", None)
    configs = getattr(args, "extra_model_paths_config", None) or []
    MODEL_DIRS.update(read_model_paths([c for group in configs for c in group]))
    HUB = Hub(Path(out_dir) if out_dir else HERE / "output")
    host = (args.listen or "127.0.0.1").split(",")[0]
    try:
        server = ThreadingHTTPServer((host, args.port), Handler)
    except OSError as exc:
        log(
            f"OSError: [Errno {exc.errno}] error while attempting to bind on address "
            f"('{host}', {args.port}): address already in use"
        )
        return 1
    crash_after = os.environ.get("FAKE_COMFYUI_CRASH_AFTER")
    if crash_after:

        def crash() -> None:
            time.sleep(float(crash_after))
            log("Fatal: the fake ComfyUI crashed on purpose")
            os._exit(1)

        threading.Thread(target=crash, daemon=True).start()

    def on_sigint(signum: int, frame: object) -> None:
        log("Stopped server")
        threading.Thread(target=server.shutdown, daemon=True).start()

    stubborn = os.environ.get("FAKE_COMFYUI_STUBBORN_CHILD")
    if stubborn:
        worker = (
            "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\ntime.sleep(3600)"
        )
        child = subprocess.Popen(
            [sys.executable, "-c", worker],
            process_group=0 if stubborn == "own-group" else None,
        )
        log(f"started a worker that ignores SIGINT: pid {child.pid}")
    if os.environ.get("FAKE_COMFYUI_IGNORE_SIGINT"):
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    else:
        signal.signal(signal.SIGINT, on_sigint)
    if not args.dont_print_server:
        log("Starting server\n")
        log(f"To see the GUI go to: http://{host}:{args.port}")
    chatter = int(os.environ.get("FAKE_COMFYUI_CHATTER", "0"))
    if chatter:

        def chat() -> None:
            for i in range(1, chatter + 1):
                log(f"chatter line {i:06d} " + "x" * 40)
                time.sleep(0.005)
            log("chatter done")

        threading.Thread(target=chat, daemon=True).start()
    server.serve_forever()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

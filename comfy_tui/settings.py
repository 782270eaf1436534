"""Settings: a named tuple read from `$DATA/settings.toml` and the environment.

Precedence, highest first: environment variable, settings.toml, built-in default. Any bad value
raises one `SettingsError` whose message names the file (or variable), the key and the
expected type.
"""

import os
import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple

from comfy_tui.errors import SettingsError, ValidationError

if TYPE_CHECKING:  # the [[hosts]] parser is imported only when a settings file has hosts
    from comfy_tui.core.fleet_hosts import HostSpec

MASK = "***"
_NO_KEYMAP: Mapping[str, str] = MappingProxyType({})


class Settings(NamedTuple):
    """The effective configuration. Build it with `load_settings`, change it with `_replace`.

    A named tuple, not a dataclass: every command loads it, and `dataclasses` brings
    `inspect` and `ast` with it (this module's annotations are evaluated, not strings, which
    is what keeps making the class cheap)."""

    data_dir: Path
    github_api: str = "https://api.github.com"
    comfyui_repo: str = "https://github.com/comfyanonymous/ComfyUI.git"
    nodes_mirror: str | None = None
    github_token: str | None = None
    hf_endpoint: str = "https://huggingface.co"
    hf_token: str | None = None
    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    python: str = sys.executable
    installer: str = "uv"
    model_mapping: str = "yaml"  # "yaml" (extra_model_paths.yaml) or "symlinks"
    exclude_newer_after_days: int = 90
    torch_index_url: str | None = None
    """Where torch comes from: a URL, or "sources" (the configured package sources)."""
    pytorch_index: str = "https://download.pytorch.org/whl"
    poll_interval: float = 1.0
    github_cache_ttl: float = 3600.0
    listen: str = "127.0.0.1"
    base_port: int = 8188
    ready_timeout: float = 180.0
    stop_grace: float = 10.0
    keymap: Mapping[str, str] = _NO_KEYMAP
    library_roots: tuple[Path, ...] = ()
    gpu_replay: Path | None = None
    """Testing aid: play GPU readings from a recording file instead of asking NVML."""
    max_downloads: int = 2
    download_segments: int = 4
    hf_fast_path: bool = True
    """Hub files served through Xet go through huggingface_hub when hf_xet is installed."""
    civitai_api: str = "https://civitai.com"
    node_map_url: str = (
        "https://raw.githubusercontent.com/ltdrdata/ComfyUI-Manager/main/extension-node-map.json"
    )
    civitai_token: str | None = None
    allow_local_downloads: bool = False
    notify_bell: bool = True
    notify_desktop: bool = True
    notify_webhook: str | None = None
    notify_command: tuple[str, ...] = ()
    log_max_bytes: int = 32 * 1024 * 1024  # an instance log is rotated past this (0 = never)
    log_keep: int = 3  # rotated copies kept (`<id>.log.1` … `.3`)
    separate_outputs: bool = False  # each instance writes to its own output folder
    trash_keep_days: int = 30  # trash entries older than this are deleted (0 = keep forever)
    download_history_keep: int = 200  # finished downloads remembered in the queue file
    snapshots_keep: int = 20  # environment snapshots kept per version (the newest)
    pass_env: tuple[str, ...] = ()
    """Secret variables (e.g. HF_TOKEN) a launched ComfyUI may see; other children never do."""
    hosts: tuple["HostSpec", ...] = ()
    """The fleet: `[[hosts]]` tables (the Fleet screen and `comfy-tui fleet`)."""

    def __repr__(self) -> str:  # tokens are left out, as they were of the dataclass's repr
        pairs = zip(self._fields, self, strict=True)
        shown = (f"{k}={v!r}" for k, v in pairs if k not in _SECRET_KEYS)
        return f"Settings({', '.join(shown)})"

    def secrets(self) -> list[str]:
        """Every token value that is set: the log filter masks these."""
        tokens = (self.github_token, self.hf_token, self.civitai_token, self.notify_webhook)
        return [s for s in tokens if s]

    def to_public_dict(self) -> dict[str, Any]:
        """A JSON-ready view with tokens masked (`***` when set, null when not)."""
        out: dict[str, Any] = {}
        value: Any
        for name, value in zip(self._fields, self, strict=True):
            if name in _SECRET_KEYS:
                value = MASK if value else None
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = [
                    str(v) if isinstance(v, Path) else v.to_json() if hasattr(v, "to_json") else v
                    for v in value
                ]
            elif isinstance(value, Mapping):
                value = dict(value)
            out[name] = value
        return out


# --- how each key is parsed ----------------------------------------------------------------

Parser = Callable[[Any, bool], Any]  # (raw value, raw came from the environment) -> value


class _Bad(Exception):
    """Raised by a parser; carries the 'expected ...' phrase."""

    def __init__(self, expected: str, detail: str = "", *, show_value: bool = True) -> None:
        super().__init__(expected)
        self.expected = expected
        self.detail = detail
        self.show_value = show_value
        """False for large values (the hosts array): the detail alone names what is wrong."""


def _type_name(value: Any) -> str:
    return {
        str: "string",
        int: "integer",
        float: "float",
        bool: "boolean",
        list: "array",
        dict: "table",
    }.get(type(value), type(value).__name__)


def _string(raw: Any, from_env: bool) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise _Bad("a non-empty string")
    return raw.strip()


def _optional_string(raw: Any, from_env: bool) -> str | None:
    return _string(raw, from_env)


def _url(raw: Any, from_env: bool) -> str:
    from comfy_tui.validate import validate_url  # the checks (regexes) only for a value set

    text = _string(raw, from_env)
    try:
        return validate_url(text, allow_local=True)
    except ValidationError as exc:
        raise _Bad(
            "an https:// URL (file:// or loopback http:// for local mirrors)", str(exc)
        ) from exc


def _optional_url(raw: Any, from_env: bool) -> str | None:
    return _url(raw, from_env)


def _torch_index(raw: Any, from_env: bool) -> str | None:
    if isinstance(raw, str) and raw.strip() == "sources":
        return "sources"
    try:
        return _url(raw, from_env)
    except _Bad:
        raise _Bad('a package index URL or "sources"') from None


def _url_list(raw: Any, from_env: bool) -> tuple[str, ...]:
    items = raw.split() if from_env and isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise _Bad("an array of URL strings")
    return tuple(_url(i, from_env) for i in items)


def _port(raw: Any, from_env: bool) -> int:
    if (
        isinstance(raw, bool)
        or not isinstance(raw, int | str)
        or (isinstance(raw, str) and not from_env)
    ):
        raise _Bad("an integer port (1-65535)")
    from comfy_tui.validate import validate_port

    try:
        return validate_port(raw)
    except ValidationError as exc:
        raise _Bad("an integer port (1-65535)", str(exc)) from exc


def _positive_float(raw: Any, from_env: bool) -> float:
    if from_env and isinstance(raw, str):
        try:
            raw = float(raw)
        except ValueError:
            raise _Bad("a positive number of seconds") from None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 < raw <= 3600:
        raise _Bad("a positive number of seconds (at most 3600)")
    return float(raw)


def _cache_ttl(raw: Any, from_env: bool) -> float:
    expected = "a number of seconds from 0 to 604800 (a week)"
    if from_env and isinstance(raw, str):
        try:
            raw = float(raw)
        except ValueError:
            raise _Bad(expected) from None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not 0 <= raw <= 604800:
        raise _Bad(expected)
    return float(raw)


def _installer(raw: Any, from_env: bool) -> str:
    if raw not in ("uv", "pip"):
        raise _Bad('"uv" or "pip"')
    return str(raw)


def _model_mapping(raw: Any, from_env: bool) -> str:
    if raw not in ("yaml", "symlinks"):
        raise _Bad('"yaml" or "symlinks"')
    return str(raw)


def _days(raw: Any, from_env: bool) -> int:
    expected = "a whole number of days from 0 to 36500 (0 = off)"
    if from_env and isinstance(raw, str):
        if not raw.strip().isdigit():
            raise _Bad(expected)
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= 36500:
        raise _Bad(expected)
    return raw


def _optional_path(raw: Any, from_env: bool) -> Path | None:
    return Path(_string(raw, from_env)).expanduser()


def _listen(raw: Any, from_env: bool) -> str:
    from comfy_tui.validate import validate_listen

    text = _string(raw, from_env)
    try:
        return validate_listen(text)
    except ValidationError as exc:
        raise _Bad("an IP address or host name", str(exc)) from exc


def _small_count(raw: Any, from_env: bool) -> int:
    expected = "a whole number from 1 to 16"
    if from_env and isinstance(raw, str):
        if not raw.strip().isdigit():
            raise _Bad(expected)
        raw = int(raw.strip())
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= 16:
        raise _Bad(expected)
    return raw


def _whole(low: int, high: int, note: str = "") -> Parser:
    """A whole number from `low` to `high` (environment: digits)."""
    expected = f"a whole number from {low} to {high}{note}"

    def parse(raw: Any, from_env: bool) -> int:
        if from_env and isinstance(raw, str):
            if not raw.strip().isdigit():
                raise _Bad(expected)
            raw = int(raw.strip())
        if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
            raise _Bad(expected)
        return raw

    return parse


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _boolean(raw: Any, from_env: bool) -> bool:
    if from_env and isinstance(raw, str):
        word = raw.strip().lower()
        if word in _TRUE | _FALSE:
            return word in _TRUE
        raise _Bad("a boolean (1/0, true/false, yes/no, on/off)")
    if not isinstance(raw, bool):
        raise _Bad("a boolean (true or false)")
    return raw


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)


def _env_names(raw: Any, from_env: bool) -> tuple[str, ...]:
    items = raw.split() if from_env and isinstance(raw, str) else raw
    expected = "an array of environment variable names"
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise _Bad(expected)
    for item in items:
        if not _ENV_NAME.fullmatch(item):
            raise _Bad(expected, f"{item!r} is not a variable name")
    return tuple(dict.fromkeys(items))


def _keymap(raw: Any, from_env: bool) -> Mapping[str, str]:
    expected = 'a table of binding id = "key[,key]" strings'
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v.strip() for k, v in raw.items()
    ):
        raise _Bad(expected)
    from comfy_tui.core.binding_ids import BINDING_IDS

    for binding_id in raw:
        if binding_id not in BINDING_IDS:
            import difflib  # only for this message

            close = difflib.get_close_matches(binding_id, BINDING_IDS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else " (the README lists the ids)"
            raise _Bad(expected, f"unknown binding id {binding_id!r}{hint}")
    return MappingProxyType(dict(raw))


def _path_list(raw: Any, from_env: bool) -> tuple[Path, ...]:
    if from_env and isinstance(raw, str):
        raw = [part for part in raw.split(os.pathsep) if part.strip()]
    items = raw
    expected = "an array of absolute folder paths"
    if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
        raise _Bad(expected)
    import unicodedata

    out: list[Path] = []
    for item in items:
        if any(unicodedata.category(ch)[0] == "C" for ch in item):
            raise _Bad(expected, f"{item!r} contains control characters")
        path = Path(item.strip()).expanduser()
        if not path.is_absolute():
            raise _Bad(expected, f"{item!r} is not absolute")
        out.append(Path(os.path.normpath(path)))
    return tuple(dict.fromkeys(out))


def _webhook(raw: Any, from_env: bool) -> str:
    url = _url(raw, from_env)
    if url.startswith("file:"):
        raise _Bad("an https:// URL (or loopback http://)")
    return url


def _argv(raw: Any, from_env: bool) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw or not all(isinstance(a, str) and a for a in raw):
        raise _Bad('an array of strings, the command and its arguments (no shell): ["notify-send"]')
    return tuple(raw)


def _hosts(raw: Any, from_env: bool) -> tuple["HostSpec", ...]:
    from comfy_tui.core.fleet_hosts import HostSpecError, parse_hosts

    try:
        return parse_hosts(raw)
    except HostSpecError as exc:
        raise _Bad("[[hosts]] tables", str(exc), show_value=False) from None


class _Key:
    """How one key is read (a plain class: every command loads the settings)."""

    __slots__ = ("env", "parse")

    def __init__(self, parse: Parser, env: tuple[str, ...] = ()) -> None:
        self.parse = parse
        self.env = env


_SECRET_KEYS = frozenset({"github_token", "hf_token", "civitai_token", "notify_webhook"})

_KEYS: dict[str, _Key] = {
    "github_api": _Key(_url, ("COMFY_TUI_GITHUB_API",)),
    "comfyui_repo": _Key(_url, ("COMFY_TUI_COMFYUI_REPO",)),
    "nodes_mirror": _Key(_optional_url, ("COMFY_TUI_NODES_MIRROR",)),
    "github_token": _Key(_optional_string, ("COMFY_TUI_GITHUB_TOKEN", "GITHUB_TOKEN")),
    "hf_endpoint": _Key(_url, ("HF_ENDPOINT",)),
    "hf_token": _Key(_optional_string, ("HF_TOKEN",)),
    "index_url": _Key(_optional_url, ("COMFY_TUI_INDEX_URL",)),
    "extra_index_urls": _Key(_url_list, ("COMFY_TUI_EXTRA_INDEX_URLS",)),
    "find_links": _Key(_url_list, ("COMFY_TUI_FIND_LINKS",)),
    "python": _Key(_string, ("COMFY_TUI_PYTHON",)),
    "installer": _Key(_installer, ("COMFY_TUI_INSTALLER",)),
    "model_mapping": _Key(_model_mapping, ("COMFY_TUI_MODEL_MAPPING",)),
    "exclude_newer_after_days": _Key(_days, ("COMFY_TUI_EXCLUDE_NEWER_AFTER_DAYS",)),
    "torch_index_url": _Key(_torch_index, ("COMFY_TUI_TORCH_INDEX_URL",)),
    "pytorch_index": _Key(_url, ("COMFY_TUI_PYTORCH_INDEX",)),
    "poll_interval": _Key(_positive_float, ("COMFY_TUI_POLL_INTERVAL",)),
    "github_cache_ttl": _Key(_cache_ttl, ("COMFY_TUI_GITHUB_CACHE_TTL",)),
    "listen": _Key(_listen, ("COMFY_TUI_LISTEN",)),
    "base_port": _Key(_port, ("COMFY_TUI_BASE_PORT",)),
    "ready_timeout": _Key(_positive_float, ("COMFY_TUI_READY_TIMEOUT",)),
    "stop_grace": _Key(_positive_float, ("COMFY_TUI_STOP_GRACE",)),
    "keymap": _Key(_keymap),
    "library_roots": _Key(_path_list, ("COMFY_TUI_LIBRARY_ROOTS",)),
    "gpu_replay": _Key(_optional_path, ("COMFY_TUI_GPU_REPLAY",)),
    "max_downloads": _Key(_small_count, ("COMFY_TUI_MAX_DOWNLOADS",)),
    "download_segments": _Key(_small_count, ("COMFY_TUI_DOWNLOAD_SEGMENTS",)),
    "hf_fast_path": _Key(_boolean, ("COMFY_TUI_HF_FAST_PATH",)),
    "civitai_api": _Key(_url, ("COMFY_TUI_CIVITAI_API",)),
    "node_map_url": _Key(_url, ("COMFY_TUI_NODE_MAP_URL",)),
    "civitai_token": _Key(_optional_string, ("CIVITAI_API_TOKEN",)),
    "allow_local_downloads": _Key(_boolean, ("COMFY_TUI_ALLOW_LOCAL_DOWNLOADS",)),
    "notify_bell": _Key(_boolean, ("COMFY_TUI_NOTIFY_BELL",)),
    "notify_desktop": _Key(_boolean, ("COMFY_TUI_NOTIFY_DESKTOP",)),
    "notify_webhook": _Key(_webhook, ("COMFY_TUI_NOTIFY_WEBHOOK",)),
    "notify_command": _Key(_argv),
    "log_max_bytes": _Key(_whole(0, 2**40, " (0 = never rotate)"), ("COMFY_TUI_LOG_MAX_BYTES",)),
    "log_keep": _Key(_whole(1, 100), ("COMFY_TUI_LOG_KEEP",)),
    "separate_outputs": _Key(_boolean, ("COMFY_TUI_SEPARATE_OUTPUTS",)),
    "trash_keep_days": _Key(
        _whole(0, 36500, " (0 = keep forever)"), ("COMFY_TUI_TRASH_KEEP_DAYS",)
    ),
    "download_history_keep": _Key(_whole(0, 100000), ("COMFY_TUI_DOWNLOAD_HISTORY_KEEP",)),
    "snapshots_keep": _Key(_whole(1, 10000), ("COMFY_TUI_SNAPSHOTS_KEEP",)),
    "pass_env": _Key(_env_names, ("COMFY_TUI_PASS_ENV",)),
    "hosts": _Key(_hosts),
}

ENV_VARS: dict[str, tuple[str, ...]] = {k: spec.env for k, spec in _KEYS.items() if spec.env}
"""Setting key → the environment variables that set it (first one set wins)."""

SECRET_ENV_VARS: frozenset[str] = frozenset(n for k in _SECRET_KEYS for n in _KEYS[k].env)
"""The variables secret settings are read from: no child process inherits them."""


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM (some Windows editors) is fine
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read settings ({exc})") from exc
    import tomllib  # only when there is a settings file

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: malformed TOML: {exc}") from exc


def _parse(key: str, raw: Any, source: str, from_env: bool) -> Any:
    try:
        return _KEYS[key].parse(raw, from_env)
    except _Bad as bad:
        if not bad.show_value:
            raise SettingsError(f"{source}: key '{key}': {bad.detail}") from None
        got = f"{raw!r}" if from_env else f"{_type_name(raw)} {raw!r}"
        detail = f" ({bad.detail})" if bad.detail else ""
        raise SettingsError(
            f"{source}: key '{key}': expected {bad.expected}, got {got}{detail}"
        ) from None


def load_settings(data_dir: Path, env: Mapping[str, str]) -> Settings:
    """Read `data_dir/settings.toml` (optional) and the environment into a Settings."""
    path = data_dir / "settings.toml"
    document = _read_toml(path)
    values: dict[str, Any] = {}
    for key, raw in document.items():
        if key not in _KEYS:
            known = ", ".join(sorted(_KEYS))
            raise SettingsError(f"{path}: unknown key '{key}' (known keys: {known})")
        values[key] = _parse(key, raw, str(path), from_env=False)
    for key, spec in _KEYS.items():
        for name in spec.env:
            if env.get(name, "") != "":  # an empty variable counts as unset
                values[key] = _parse(key, env[name], f"environment variable {name}", True)
                break
    return Settings(data_dir=data_dir, **values)

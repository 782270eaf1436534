"""The `[[hosts]]` of settings.toml: one GPU box of the fleet each, checked when settings load.

A host is a name, an SSH target (`[user@]host[:port]`; the host may be a `~/.ssh/config`
alias), an optional identity file, the `comfy-tui` command to run there (an argv list, or a
string split like a shell would, never run by one locally) and tags such as `gpu=h100`.
Pure: nothing here connects or reads a file.
"""

from __future__ import annotations

import re
import shlex
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["HOST_KEYS", "HostSpec", "HostSpecError", "parse_hosts", "parse_target"]

DEFAULT_COMMAND: tuple[str, ...] = ("comfy-tui",)
DEFAULT_TIMEOUT = 15.0

HOST_KEYS = ("name", "ssh", "identity_file", "command", "tags", "timeout")
"""The keys a `[[hosts]]` table may have."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", re.ASCII)
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,63}", re.ASCII)
_HOST = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,252}", re.ASCII)
_IPV6 = re.compile(r"\[([0-9A-Fa-f:.]+)\]", re.ASCII)
_TAG = re.compile(r"[A-Za-z0-9_.-]{1,64}(=[A-Za-z0-9_.:/+-]{1,128})?", re.ASCII)


class HostSpecError(ValueError):
    """One bad `[[hosts]]` value; the message names the host and the key."""


@dataclass(frozen=True)
class HostSpec:
    """One configured host."""

    name: str
    host: str
    user: str | None = None
    port: int | None = None
    identity_file: Path | None = None
    command: tuple[str, ...] = DEFAULT_COMMAND
    tags: tuple[str, ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    """Seconds one status call may take before the host counts as slow."""

    @property
    def target(self) -> str:
        """`user@host:port` as written (the parts that were given)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port is not None else ""
        return f"{user}{host}{port}"

    def command_line(self, args: Sequence[str], env: Mapping[str, str] | None = None) -> str:
        """The remote command line for `comfy-tui ARGS`: every word quoted (`shlex.join`), so
        no argument is ever read as shell syntax by the remote login shell. `env` sets
        variables for that one call (through `env NAME=VALUE …`, which every box has)."""
        prefix = ["env", *(f"{k}={v}" for k, v in env.items())] if env else []
        return shlex.join([*prefix, *self.command, *args])

    def has_tag(self, tag: str) -> bool:
        return tag in self.tags

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "ssh": self.target,
            "identity_file": None if self.identity_file is None else str(self.identity_file),
            "command": list(self.command),
            "tags": list(self.tags),
            "timeout": self.timeout,
        }


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch)[0] == "C" for ch in text)


def parse_target(text: str) -> tuple[str | None, str, int | None]:
    """`[user@]host[:port]` (IPv6 as `[addr]:port`) → (user, host, port)."""
    expected = "an SSH target user@host[:port]"
    if not isinstance(text, str) or not text.strip():
        raise HostSpecError(f"expected {expected}")
    rest = text.strip()
    user: str | None = None
    if "@" in rest:
        user, rest = rest.rsplit("@", 1)
        if not _USER.fullmatch(user):
            raise HostSpecError(f"{user!r} is not a user name")
    port: int | None = None
    v6 = _IPV6.match(rest)
    if v6:
        host, tail = v6.group(1), rest[v6.end() :]
        if tail and not tail.startswith(":"):
            raise HostSpecError(f"{text!r} is not {expected}")
        port_text = tail[1:] if tail else None
    else:
        host, _, port_text = rest.partition(":")
        port_text = port_text if ":" in rest else None
        if not _HOST.fullmatch(host):
            raise HostSpecError(f"{host!r} is not a host name or address")
    if port_text is not None:
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise HostSpecError(f"{port_text!r} is not a port (1-65535)")
        port = int(port_text)
    return user, host, port


def _command(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        try:
            words = shlex.split(value)
        except ValueError as exc:
            raise HostSpecError(f"cannot split {value!r} ({exc})") from None
    elif isinstance(value, list) and all(isinstance(w, str) for w in value):
        words = list(value)
    else:
        raise HostSpecError('expected a command: "comfy-tui" or ["/opt/venv/bin/comfy-tui"]')
    if not words or not all(words) or any(_has_control(w) for w in words):
        raise HostSpecError(f"{value!r} is not a command (empty words or control characters)")
    return tuple(words)


def _tags(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise HostSpecError('expected an array of tags like ["gpu=h100", "lab"]')
    for tag in value:
        if not _TAG.fullmatch(tag):
            raise HostSpecError(f"{tag!r} is not a tag (word or key=value, no spaces)")
    return tuple(dict.fromkeys(value))


def _identity(value: Any) -> Path:
    if not isinstance(value, str) or not value.strip() or _has_control(value):
        raise HostSpecError("expected the path of a private key file")
    path = Path(value.strip()).expanduser()
    if not path.is_absolute():
        raise HostSpecError(f"{value!r} is not an absolute path (~/ is fine)")
    return path


def _timeout(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 3600:
        raise HostSpecError("expected a number of seconds from 0 to 3600")
    return float(value)


def _one(index: int, table: Any) -> HostSpec:
    where = f"hosts[{index}]"
    if not isinstance(table, dict):
        raise HostSpecError(f"{where}: expected a [[hosts]] table, got {table!r}")
    name = table.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise HostSpecError(
            f"{where}: key 'name': expected a name of letters, digits, '.', '_', '-', got {name!r}"
        )
    where = f"{where} {name!r}"
    for key in table:
        if key not in HOST_KEYS:
            raise HostSpecError(
                f"{where}: unknown key {key!r} (known keys: {', '.join(HOST_KEYS)})"
            )
    if "ssh" not in table:
        raise HostSpecError(f"{where}: key 'ssh' is required (user@host[:port])")
    try:
        user, host, port = parse_target(table["ssh"])
    except HostSpecError as exc:
        raise HostSpecError(f"{where}: key 'ssh': {exc}") from None
    options: dict[str, Any] = {}
    for key, parse in _OPTIONAL.items():
        if key in table:
            try:
                options[key] = parse(table[key])
            except HostSpecError as exc:
                raise HostSpecError(f"{where}: key {key!r}: {exc}") from None
    return HostSpec(name, host, user, port, **options)


_OPTIONAL: dict[str, Callable[[Any], Any]] = {
    "identity_file": _identity,
    "command": _command,
    "tags": _tags,
    "timeout": _timeout,
}
"""The optional keys of a host table, each named like its HostSpec field."""


def parse_hosts(raw: Any) -> tuple[HostSpec, ...]:
    """The `hosts` array of tables → HostSpecs (names unique), or one HostSpecError."""
    if not isinstance(raw, list):
        raise HostSpecError("expected [[hosts]] tables")
    hosts = tuple(_one(i, table) for i, table in enumerate(raw))
    seen: set[str] = set()
    for spec in hosts:
        if spec.name in seen:
            raise HostSpecError(f"two hosts are named {spec.name!r}")
        seen.add(spec.name)
    return hosts

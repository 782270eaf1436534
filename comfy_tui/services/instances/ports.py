"""Ports: is one free to bind, and which is the first free one from `base_port`."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterable
from typing import Any

from comfy_tui.errors import ValidationError

ALL_INTERFACES = frozenset({"0.0.0.0", "::"})  # noqa: S104 (names, not a bind)
PORT_SCAN_LIMIT = 200


def bind_hosts(listen: str) -> list[str]:
    """The addresses ComfyUI will bind for a `--listen` value (it takes a comma list)."""
    return [h.strip() for h in listen.split(",") if h.strip()] or ["127.0.0.1"]


def probe_host(listen: str) -> str:
    """Where to reach a server listening on `listen` from this box."""
    first = bind_hosts(listen)[0]
    if first == "0.0.0.0":  # noqa: S104 (a comparison)
        return "127.0.0.1"
    if first == "::":
        return "::1"
    return first


def listens_everywhere(listen: str) -> bool:
    return any(h in ALL_INTERFACES for h in bind_hosts(listen))


def _bind_error(infos: list[Any], *, reuse: bool) -> OSError | None:
    """Bind (then close) a socket on each address of `infos`; the first failure, or None.

    With `reuse`, SO_REUSEADDR is set as servers do (and IPv6 sockets are IPv6 only).
    """
    for family, kind, proto, _, address in infos:
        try:
            sock = socket.socket(family, kind, proto)
        except OSError:
            continue
        with contextlib.closing(sock):
            if reuse:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:
                    with contextlib.suppress(OSError):
                        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                return exc
    return None


def can_bind(host: str, port: int) -> bool:
    """True when a listening socket on (host, port) could be opened now.

    SO_REUSEADDR is set as servers do, so sockets in TIME_WAIT from a stopped instance do
    not count as taken, while any listener does.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        return False
    return _bind_error(infos, reuse=True) is None


def check_listen(listen: str) -> None:
    """Refuse at once an address this box cannot listen on (not one of its own addresses,
    or a name that does not resolve), instead of scanning every port for a free one."""
    for host in bind_hosts(listen):
        try:
            infos = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        except socket.gaierror as exc:
            raise ValidationError(f"listen address {host!r} does not resolve: {exc}") from None
        failed = _bind_error(infos, reuse=False)
        if failed is not None:
            raise ValidationError(
                f"cannot listen on {host}: {failed.strerror or failed} (it is not an address "
                "of this machine; use 127.0.0.1, 0.0.0.0 or one of its own addresses)"
            )


def port_is_free(listen: str, port: int) -> bool:
    return all(can_bind(host, port) for host in bind_hosts(listen))


def pick_port(listen: str, base_port: int, taken: Iterable[int]) -> int:
    """The first port from `base_port` that no record holds and that binds."""
    reserved = set(taken)
    for port in range(base_port, min(base_port + PORT_SCAN_LIMIT, 65536)):
        if port not in reserved and port_is_free(listen, port):
            return port
    raise ValidationError(
        f"no free port among {base_port}-{base_port + PORT_SCAN_LIMIT - 1}; "
        "stop an instance or set base_port"
    )

"""Ports: a bind test that sees any listener, and the first free one from base_port."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from comfy_tui.errors import ValidationError
from comfy_tui.services.instances import ports


@pytest.fixture
def held() -> Iterator[int]:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen()
    yield s.getsockname()[1]
    s.close()


def test_a_listener_makes_the_port_taken(held: int) -> None:
    assert not ports.port_is_free("127.0.0.1", held)
    assert not ports.port_is_free("0.0.0.0", held)


def test_pick_skips_listeners_and_reserved_ports(held: int) -> None:
    picked = ports.pick_port("127.0.0.1", held, taken={held + 1})
    assert picked not in (held, held + 1) and picked > held


def test_no_free_port_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ports, "port_is_free", lambda listen, port: False)
    with pytest.raises(ValidationError, match="no free port among 9000-9199"):
        ports.pick_port("127.0.0.1", 9000, ())


def test_hosts() -> None:
    assert ports.probe_host("0.0.0.0") == "127.0.0.1"
    assert ports.probe_host("::") == "::1"
    assert ports.probe_host("10.1.2.3") == "10.1.2.3"
    assert ports.listens_everywhere("0.0.0.0,::") and not ports.listens_everywhere("127.0.0.1")

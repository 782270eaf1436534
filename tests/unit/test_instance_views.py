"""What an instance looks like to a user: URL, ssh tunnel, uptime, memory."""

from __future__ import annotations

import pytest

from comfy_tui.services.instances.views import (
    InstanceView,
    tunnel_for,
    url_for,
)
from comfy_tui.store.instance_records import InstanceRecord


def rec(listen: str = "127.0.0.1", port: int = 8188) -> InstanceRecord:
    return InstanceRecord(
        id="c1",
        version="v1",
        port=port,
        listen=listen,
        gpu=None,
        argv=(),
        cwd="/",
        log_path="/l",
        started_at=0.0,
    )


@pytest.mark.parametrize(
    ("listen", "url", "tunnel"),
    [
        ("127.0.0.1", "http://127.0.0.1:8188", "ssh -L 8188:127.0.0.1:8188 me@box"),
        ("0.0.0.0", "http://box:8188", "ssh -L 8188:127.0.0.1:8188 me@box"),
        ("10.0.0.5", "http://10.0.0.5:8188", "ssh -L 8188:10.0.0.5:8188 me@box"),
        ("::1", "http://[::1]:8188", "ssh -L 8188:127.0.0.1:8188 me@box"),
    ],
)
def test_url_and_tunnel(listen: str, url: str, tunnel: str) -> None:
    assert url_for(rec(listen), "box") == url
    assert tunnel_for(rec(listen), "me", "box") == tunnel


def test_handed_secrets_are_masked_in_the_json_view() -> None:
    env = {"HF_TOKEN": "hf_abc", "MY_SERVICE_API_KEY": "k", "COMFY_LOGLEVEL": "debug"}
    record = rec().evolve(user_env=env, env={**env, "PYTHONUNBUFFERED": "1"})
    doc = InstanceView(record, "u", "t").to_json()
    assert doc["env"] == {"HF_TOKEN": "***", "MY_SERVICE_API_KEY": "***", "COMFY_LOGLEVEL": "debug"}
    assert "hf_abc" not in str(doc)


def test_exposed_only_on_all_interfaces() -> None:
    assert InstanceView(rec("0.0.0.0"), "u", "t").exposed
    assert not InstanceView(rec(), "u", "t").exposed

"""Proxies and CA bundles from the environment: which proxy a URL takes, NO_PROXY, masking."""

from __future__ import annotations

import ssl
from pathlib import Path

import pytest

from comfy_tui.errors import NetworkError
from comfy_tui.services.net import Network


def test_nothing_set_means_direct_and_the_system_cas() -> None:
    net = Network.from_env({})
    assert net.proxy_for("https://huggingface.co/x") is None
    assert net.request_options("https://huggingface.co/x", {"A": "1"}) == {"headers": {"A": "1"}}
    assert net.ssl_context() is True


def test_the_proxy_follows_the_scheme_and_lower_case_wins() -> None:
    net = Network.from_env(
        {"HTTPS_PROXY": "http://upper:1", "https_proxy": "http://lower:2", "HTTP_PROXY": "plain:3"}
    )
    https = net.proxy_for("https://civitai.com/api")
    plain = net.proxy_for("http://127.0.0.1:8000/m")
    assert https is not None and https.url == "http://lower:2"
    assert plain is not None and plain.url == "http://plain:3"  # a bare host:port is http


def test_all_proxy_is_the_fallback() -> None:
    net = Network.from_env({"ALL_PROXY": "http://every:8"})
    found = net.proxy_for("https://x.example/")
    assert found is not None and found.url == "http://every:8"


def test_credentials_become_proxy_auth_and_are_masked_for_display() -> None:
    net = Network.from_env({"HTTPS_PROXY": "http://bob:p%40ss@proxy.corp:3128"})
    found = net.proxy_for("https://huggingface.co/")
    assert found is not None and found.url == "http://proxy.corp:3128"
    assert (found.user, found.password) == ("bob", "p@ss")
    basic = {"Proxy-Authorization": "Basic Ym9iOnBAc3M="}
    options = net.request_options("https://huggingface.co/", {})
    assert options == {"headers": {}, "proxy": "http://proxy.corp:3128", "proxy_headers": basic}
    plain = Network.from_env({"HTTP_PROXY": "http://bob:p%40ss@proxy.corp:3128"})
    options = plain.request_options("http://mirror.lan/m", {"A": "1"})
    assert options == {"headers": {"A": "1", **basic}, "proxy": "http://proxy.corp:3128"}
    shown = net.public()
    assert shown["https_proxy"] == "http://***@proxy.corp:3128"
    assert "p%40ss" not in repr(net) and "bob" not in repr(net)


@pytest.mark.parametrize(
    ("no_proxy", "url", "bypass"),
    [
        ("*", "https://anything.example/", True),
        ("localhost,127.0.0.1", "http://127.0.0.1:9000/", True),
        (".corp.example", "https://hub.corp.example/x", True),
        ("corp.example", "https://hub.corp.example/x", True),
        ("corp.example", "https://corp.example/x", True),
        ("corp.example", "https://notcorp.example/x", False),
        ("10.0.0.0/8", "http://10.1.2.3/x", True),
        ("10.0.0.0/8", "http://11.1.2.3/x", False),
        ("mirror.lan:8080", "http://mirror.lan:8080/x", True),
        ("mirror.lan:8080", "http://mirror.lan:9090/x", False),
        ("[::1]", "http://[::1]:5000/x", True),
        ("", "https://huggingface.co/", False),
    ],
)
def test_no_proxy(no_proxy: str, url: str, bypass: bool) -> None:
    net = Network.from_env({"HTTPS_PROXY": "http://p:1", "HTTP_PROXY": "http://p:1",
                            "NO_PROXY": no_proxy})  # fmt: skip
    assert net.bypass(url) is bypass
    assert (net.proxy_for(url) is None) is bypass


def test_ca_bundle_variables_in_order(tmp_path: Path) -> None:
    assert Network.from_env({"REQUESTS_CA_BUNDLE": "/b", "CURL_CA_BUNDLE": "/c"}).ca_file == "/b"
    assert Network.from_env({"SSL_CERT_FILE": "/a", "REQUESTS_CA_BUNDLE": "/b"}).ca_file == "/a"
    assert Network.from_env({"SSL_CERT_FILE": ""}).ca_file is None  # empty counts as unset


def test_a_missing_ca_bundle_is_a_clear_error(tmp_path: Path) -> None:
    net = Network.from_env({"REQUESTS_CA_BUNDLE": str(tmp_path / "nope.pem")})
    with pytest.raises(NetworkError, match=r"cannot use the CA bundle .*nope\.pem"):
        net.ssl_context()


def test_a_ca_bundle_makes_a_context(tmp_path: Path) -> None:
    bundle = ssl.get_default_verify_paths().cafile
    if bundle is None:
        pytest.skip("no system CA bundle file")
    context = Network.from_env({"SSL_CERT_FILE": bundle}).ssl_context()
    assert isinstance(context, ssl.SSLContext)


def test_a_ca_bundle_is_loaded_once_until_it_changes(tmp_path: Path) -> None:
    system = ssl.get_default_verify_paths().cafile
    if system is None:
        pytest.skip("no system CA bundle file")
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(Path(system).read_bytes())
    net = Network.from_env({"SSL_CERT_FILE": str(bundle)})
    first = net.ssl_context()
    assert Network.from_env({"SSL_CERT_FILE": str(bundle)}).ssl_context() is first
    replaced = tmp_path / "new.pem"
    replaced.write_bytes(bundle.read_bytes() + b"\n")
    replaced.replace(bundle)  # another size and inode: the new bundle is read
    again = net.ssl_context()
    assert isinstance(again, ssl.SSLContext)
    assert again is not first

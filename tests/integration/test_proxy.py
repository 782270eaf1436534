"""Behind a proxy: downloads, CivitAI and GitHub go through HTTPS_PROXY / HTTP_PROXY (CONNECT
for https, absolute-form for http), NO_PROXY is honoured, and a company CA (SSL_CERT_FILE or
REQUESTS_CA_BUNDLE) verifies https servers. The proxy is a loopback fake that counts requests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from comfy_tui.paths import DataPaths
from comfy_tui.services.downloads import DownloadError, DownloadQueue, DownloadRequest
from comfy_tui.services.github_http import GitHubClient
from comfy_tui.settings import Settings
from tests.fakes.download_server import DownloadServer, ThreadedServer
from tests.fakes.fake_github import FakeGitHub, release
from tests.fakes.http_proxy import HttpProxy
from tests.fakes.payloads import safetensors_payload
from tests.fakes.tls import Certificate, make_certificate

DATA = safetensors_payload(2 * 1024 * 1024)
NET_VARS = ("proxy", "ssl_cert", "ca_bundle")


@pytest.fixture(autouse=True)
def clean_network_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if any(part in name.lower() for part in NET_VARS) or name == "SSL_CERT_DIR":
            monkeypatch.delenv(name)


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    made = make_certificate(tmp_path / "tls")
    if made is None:
        pytest.skip("the openssl command is missing")
    return made


@pytest.fixture
def proxy() -> Iterator[HttpProxy]:
    with ThreadedServer(HttpProxy()) as fake:
        yield fake


async def fetch(data_dir: Path, url: str) -> Path:
    settings = Settings(data_dir=data_dir, allow_local_downloads=True)
    queue = DownloadQueue(settings, DataPaths(data_dir), on_complete=None)
    item = await queue.prepare(DownloadRequest(url, folder="vae"))
    async for _event in queue.run_now(item.id):
        pass
    path = queue.get(item.id).path
    assert path is not None
    return Path(path)


async def test_https_goes_through_connect_and_trusts_the_company_ca(
    data_dir: Path, proxy: HttpProxy, certificate: Certificate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificate.cert))
    async with DownloadServer(certificate.server_context()) as server:
        url = server.add("/m.safetensors", DATA)
        path = await fetch(data_dir, url)
    assert path.read_bytes() == DATA
    assert [(s.method, s.target) for s in proxy.seen] == [
        ("CONNECT", f"127.0.0.1:{url.split(':')[2].split('/')[0]}")
    ]


async def test_an_untrusted_certificate_is_a_clear_error(
    data_dir: Path, certificate: Certificate
) -> None:
    async with DownloadServer(certificate.server_context()) as server:
        url = server.add("/m.safetensors", DATA)
        with pytest.raises(DownloadError, match=r"is not trusted .*set SSL_CERT_FILE"):
            await fetch(data_dir, url)
        assert server.requests == []


async def test_plain_http_goes_through_the_proxy_with_its_credentials(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ThreadedServer(HttpProxy(require_auth=("bob", "s3cret"))) as proxy:
        async with DownloadServer() as server:
            url = server.add("/m.safetensors", DATA)
            monkeypatch.setenv("HTTP_PROXY", proxy.url.replace("//", "//bob:wrong@"))
            with pytest.raises(DownloadError, match="proxy asks for credentials"):
                await fetch(data_dir, url)
            monkeypatch.setenv("HTTP_PROXY", proxy.url.replace("//", "//bob:s3cret@"))
            path = await fetch(data_dir, url)
    assert path.read_bytes() == DATA
    assert proxy.count("GET") == 2 and proxy.seen[-1].target == url
    assert "Proxy-Authorization" not in server.seen("/m.safetensors")[-1].headers


async def test_no_proxy_goes_direct(
    data_dir: Path, proxy: HttpProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", "localhost,127.0.0.1")
    async with DownloadServer() as server:
        path = await fetch(data_dir, server.add("/m.safetensors", DATA))
    assert path.read_bytes() == DATA
    assert proxy.seen == []


async def test_civitai_api_and_its_cdn_go_through_the_proxy(
    data_dir: Path, proxy: HttpProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    async with DownloadServer() as api, DownloadServer() as cdn:
        cdn.add("/file", DATA)
        version = {
            "id": 456, "modelId": 123, "model": {"name": "S", "type": "LORA"},
            "files": [{"name": "s.safetensors", "primary": True,
                       "downloadUrl": f"{api.base}/api/download/models/456"}],
        }  # fmt: skip
        api.add("/api/v1/model-versions/456", json.dumps(version).encode())
        api.add("/api/download/models/456", redirect_to=cdn.url("/file"))
        settings = Settings(data_dir=data_dir, civitai_api=api.base)
        queue = DownloadQueue(settings, DataPaths(data_dir), on_complete=None)
        item = await queue.prepare(DownloadRequest(f"{api.base}/api/download/models/456"))
        async for _event in queue.run_now(item.id):
            pass
    targets = [s.target for s in proxy.seen]
    assert targets == [
        f"{api.base}/api/v1/model-versions/456",
        f"{api.base}/api/download/models/456",
        cdn.url("/file"),
    ]


async def test_github_goes_through_the_proxy(
    proxy: HttpProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    async with FakeGitHub(releases=[release("v0.3.1")]) as github:
        result = await GitHubClient(api=github.url).fetch_releases("comfyanonymous", "ComfyUI")
    assert [r["tag_name"] for r in result.items] == ["v0.3.1"]
    assert proxy.count("GET") == 1 and proxy.seen[0].target.startswith(github.url + "/repos/")


def test_cli_download_behind_a_proxy_and_config_masks_it(
    data_dir: Path, proxy: HttpProxy, certificate: Certificate
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMFY_TUI_", "HF_"))}
    env.update(
        HTTPS_PROXY=proxy.url.replace("//", "//user:hunter2@"),
        SSL_CERT_FILE=str(certificate.cert),
        COMFY_TUI_ALLOW_LOCAL_DOWNLOADS="1",
    )
    base = [sys.executable, "-m", "comfy_tui", "--data-dir", str(data_dir)]
    with ThreadedServer(DownloadServer(certificate.server_context())) as server:
        url = server.add("/m.safetensors", DATA)
        result = subprocess.run(
            [*base, "models", "download", url, "--folder", "vae"],
            capture_output=True, text=True, env=env, timeout=120, check=False,
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert proxy.count("CONNECT") == 1
    shown = subprocess.run([*base, "config"], capture_output=True, text=True, env=env,
                           timeout=60, check=True)  # fmt: skip
    assert "network.https_proxy = " in shown.stdout and "hunter2" not in shown.stdout
    assert f'network.ca_bundle = "{certificate.cert}"' in shown.stdout

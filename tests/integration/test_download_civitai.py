"""CivitAI pages and download links, resolved through a fake API on loopback."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from comfy_tui.errors import NotFoundError, ValidationError
from comfy_tui.paths import DataPaths
from comfy_tui.services.downloads import (
    ChecksumError,
    DownloadError,
    DownloadQueue,
    DownloadRequest,
    Kind,
    Resolver,
    State,
)
from comfy_tui.settings import Settings
from tests.fakes.download_server import DownloadServer
from tests.fakes.payloads import safetensors_payload

DATA = safetensors_payload(300_000)
SHA = hashlib.sha256(DATA).hexdigest()
TOKEN = "civitai-token-for-tests"


def version(base: str, version_id: int, sha: str = SHA) -> dict[str, object]:
    return {
        "id": version_id,
        "modelId": 123,
        "baseModel": "SDXL 1.0",
        "model": {"name": "Style", "type": "LORA"},
        "files": [
            {"name": "extra.yaml", "primary": False, "downloadUrl": f"{base}/nope"},
            {
                "name": "../style.safetensors",
                "primary": True,
                "downloadUrl": f"{base}/api/download/models/{version_id}",
                "hashes": {"SHA256": sha.upper()},
            },
        ],
    }


@pytest.fixture
async def civitai() -> DownloadServer:
    async with DownloadServer() as api, DownloadServer() as cdn:
        base = api.base
        cdn.add("/file", DATA)
        api.add("/api/v1/models/123", json.dumps({
            "id": 123, "type": "LORA",
            "modelVersions": [version(base, 456), version(base, 455)],
        }).encode())  # fmt: skip
        api.add("/api/v1/model-versions/456", json.dumps(version(base, 456)).encode())
        api.add("/api/download/models/456", redirect_to=cdn.url("/file"), redirect_status=307)
        api.cdn = cdn  # type: ignore[attr-defined]
        yield api  # type: ignore[misc]


def settings_for(data_dir: Path, api: DownloadServer, **options: object) -> Settings:
    return Settings(data_dir=data_dir, civitai_api=api.base, **options)  # type: ignore[arg-type]


async def download(settings: Settings, request: DownloadRequest) -> DownloadQueue:
    queue = DownloadQueue(settings, DataPaths(settings.data_dir), on_complete=None)
    item = await queue.prepare(request)
    async for _event in queue.run_now(item.id):
        pass
    return queue


@pytest.mark.parametrize(
    "path", ["/models/123/style-xl?modelVersionId=456", "/models/123", "/api/download/models/456"]
)
async def test_page_or_link_lands_in_the_type_folder(
    data_dir: Path, civitai: DownloadServer, path: str
) -> None:
    settings = settings_for(data_dir, civitai, civitai_token=TOKEN)
    queue = await download(settings, DownloadRequest(civitai.url(path)))
    [item] = queue.items()
    assert item.state is State.DONE and item.kind is Kind.CIVITAI
    target = data_dir / "library/models/loras/style.safetensors"
    assert target.read_bytes() == DATA and item.sha256 == SHA
    assert civitai.seen("/api/download/models/456")[0].headers["Authorization"] == f"Bearer {TOKEN}"
    cdn: DownloadServer = civitai.cdn  # type: ignore[attr-defined]
    assert "Authorization" not in cdn.seen("/file")[0].headers


async def test_folder_flag_wins(data_dir: Path, civitai: DownloadServer) -> None:
    settings = settings_for(data_dir, civitai)
    await download(settings, DownloadRequest(civitai.url("/models/123"), folder="checkpoints"))
    assert (data_dir / "library/models/checkpoints/style.safetensors").exists()


async def test_the_api_hash_is_enforced(data_dir: Path, civitai: DownloadServer) -> None:
    body = json.dumps(version(civitai.base, 456, sha="0" * 64)).encode()
    civitai.routes["/api/v1/model-versions/456"].versions = [body]
    with pytest.raises(ChecksumError):
        await download(settings_for(data_dir, civitai), DownloadRequest(civitai.url(
            "/api/download/models/456")))  # fmt: skip
    assert list((data_dir / "library/models/loras").iterdir()) == []


async def test_unknown_type_needs_a_folder(data_dir: Path, civitai: DownloadServer) -> None:
    doc = version(civitai.base, 456)
    doc["model"] = {"type": "Poses"}
    civitai.routes["/api/v1/model-versions/456"].versions = [json.dumps(doc).encode()]
    resolver = Resolver(settings_for(data_dir, civitai))
    link = civitai.url("/api/download/models/456")
    with pytest.raises(ValidationError, match="--folder"):
        await resolver.resolve(DownloadRequest(link))
    spec = await resolver.resolve(DownloadRequest(link, folder="configs"))
    assert spec.folder == "configs" and spec.filename == "style.safetensors"


async def test_refused_and_missing(data_dir: Path, civitai: DownloadServer) -> None:
    civitai.add("/api/v1/model-versions/9", status=401)
    resolver = Resolver(settings_for(data_dir, civitai))
    with pytest.raises(DownloadError, match="CIVITAI_API_TOKEN"):
        await resolver.resolve(DownloadRequest(civitai.url("/api/download/models/9")))
    with pytest.raises(NotFoundError, match="no model 77"):
        await resolver.resolve(DownloadRequest(civitai.url("/models/77")))
    with pytest.raises(NotFoundError, match="version 1 of model 123"):
        await resolver.resolve(DownloadRequest(civitai.url("/models/123?modelVersionId=1")))
    with pytest.raises(ValidationError):
        await resolver.resolve(DownloadRequest(civitai.url("/images/5")))


async def test_a_download_url_that_is_not_https_is_refused(data_dir: Path) -> None:
    async with DownloadServer() as api:
        doc = version("http://models.example", 456)
        api.add("/api/v1/model-versions/456", json.dumps(doc).encode())
        resolver = Resolver(settings_for(data_dir, api))
        with pytest.raises(DownloadError, match="http://"):
            await resolver.resolve(DownloadRequest(api.url("/api/download/models/456")))

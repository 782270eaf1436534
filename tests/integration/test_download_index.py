"""A finished download is in the library's index at once: its sha256 (from the stream, not
re-hashed), its header facts and its source — with no rescan."""

from __future__ import annotations

import hashlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from comfy_tui.services.container import build_services
from comfy_tui.services.downloads import DownloadMeta, DownloadRequest, Kind, State
from comfy_tui.services.library.service import LibraryService
from comfy_tui.settings import Settings
from tests.cli_run import run_cli
from tests.fakes.download_server import DownloadServer, ThreadedServer
from tests.fakes.fake_hf import COMMIT, FakeHub
from tests.fakes.models import safetensors_bytes, sd15_lora, sdxl_lora
from tests.integration.test_download_cli import base_env

LORA = safetensors_bytes(sdxl_lora(), {"ss_base_model_version": "sdxl_base_v1-0"})
VAE_LIKE = safetensors_bytes(sd15_lora())


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def comfy(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(data_dir, "models", *args, env=base_env(data_dir))


@pytest.fixture
def server() -> Iterator[DownloadServer]:
    with ThreadedServer(DownloadServer()) as srv:
        yield srv


def test_cli_download_is_listed_with_hash_and_source(
    data_dir: Path, server: DownloadServer
) -> None:
    url = server.add("/files/style.safetensors", LORA)
    result = comfy(data_dir, "download", url, "--folder", "loras")
    assert result.returncode == 0, result.stderr
    listed = comfy(data_dir, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert row["relpath"] == "loras/style.safetensors" and row["folder"] == "loras"
    assert row["sha256"] == sha(LORA) and row["size"] == len(LORA)
    assert row["source_url"] == url and row["source_repo"] is None
    assert row["format"] == "safetensors" and row["kind"] == "lora"
    assert row["architecture"] and row["tensors"] == len(sdxl_lora())


async def test_queue_download_from_the_hub_records_repo_revision_commit(data_dir: Path) -> None:
    async with FakeHub() as hub:
        hub.add_repo(
            "org/vae", {"split/vae/ae.safetensors": VAE_LIKE}, lfs={"split/vae/ae.safetensors"}
        )
        services = build_services(Settings(data_dir=data_dir, hf_endpoint=hub.base))
        queue = services.downloads
        await queue.start()
        try:
            await queue.add(DownloadRequest("org/vae", "split/vae/ae.safetensors"))
            await queue.wait_idle()
        finally:
            await queue.close()
        [item] = queue.items()
        assert item.state is State.DONE, item.error
    [model] = await services.library.list_models()
    assert model.relpath == "vae/ae.safetensors" and model.sha256 == sha(VAE_LIKE)
    assert (model.source_repo, model.source_revision, model.source_commit) == (
        "org/vae",
        "main",
        COMMIT,
    )
    assert model.source_url and model.source_url.endswith(
        "/org/vae/resolve/main/split/vae/ae.safetensors"
    )


def _meta(path: Path, digest: str, **extra: object) -> DownloadMeta:
    return DownloadMeta(
        kind=Kind.URL,
        source="https://models.example/x.safetensors",
        url="https://models.example/x.safetensors",
        folder=path.parent.name,
        filename=path.name,
        size=path.stat().st_size,
        sha256=digest,
        **extra,  # type: ignore[arg-type]
    )


async def test_the_streamed_hash_is_stored_not_recomputed(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir)
    library = LibraryService(settings, build_services(settings).paths)
    target = library.main_root() / "loras" / "x.safetensors"
    target.parent.mkdir(parents=True)
    target.write_bytes(LORA)
    streamed = "ab" * 32  # what the downloader says it saw: stored as is
    record = await library.index_download(target, _meta(target, streamed))
    assert record is not None and record.sha256 == streamed
    assert record.source_url == "https://models.example/x.safetensors"
    # A second download of the same path refreshes the row (one row, new facts).
    target.write_bytes(VAE_LIKE)
    again = await library.index_download(target, _meta(target, sha(VAE_LIKE)))
    assert again is not None and again.id == record.id and again.sha256 == sha(VAE_LIKE)
    assert [m.relpath for m in await library.list_models()] == ["loras/x.safetensors"]


async def test_civitai_ids_become_the_source(data_dir: Path) -> None:
    library = build_services(Settings(data_dir=data_dir)).library
    target = library.main_root() / "checkpoints" / "c.safetensors"
    target.parent.mkdir(parents=True)
    target.write_bytes(LORA)
    meta = _meta(target, sha(LORA), civitai_model_id=12, civitai_version_id=345)
    record = await library.index_download(target, meta)
    assert record is not None
    assert (record.source_repo, record.source_revision) == ("civitai:12", "345")


async def test_what_the_scan_would_not_index_is_left_alone(data_dir: Path, tmp_path: Path) -> None:
    library = build_services(Settings(data_dir=data_dir)).library
    outside = tmp_path / "elsewhere" / "m.safetensors"
    outside.parent.mkdir()
    outside.write_bytes(LORA)
    assert await library.index_download(outside, _meta(outside, sha(LORA))) is None
    readme = library.main_root() / "loras" / "README.txt"
    readme.parent.mkdir(parents=True)
    readme.write_text("hello")
    assert await library.index_download(readme, _meta(readme, sha(b"hello"))) is None
    gone = library.main_root() / "loras" / "gone.safetensors"
    meta = DownloadMeta(Kind.URL, "s", "u", "loras", gone.name, 1, "ab" * 32)
    assert await library.index_download(gone, meta) is None  # logged, never raised
    assert await library.list_models() == []


async def test_query_strings_are_not_recorded(data_dir: Path) -> None:
    library = build_services(Settings(data_dir=data_dir)).library
    target = library.main_root() / "loras" / "q.safetensors"
    target.parent.mkdir(parents=True)
    target.write_bytes(LORA)
    meta = _meta(target, sha(LORA))
    signed = DownloadMeta(
        **{**vars(meta), "source": "https://m.example/q.safetensors?token=s3cr3t"}
    )
    record = await library.index_download(target, signed)
    assert record is not None and record.source_url == "https://m.example/q.safetensors?token=***"

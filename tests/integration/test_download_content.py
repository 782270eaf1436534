"""What arrives is what was asked for: web pages and broken headers never reach the library,
and names a server offers are made safe and never overwrite a file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from comfy_tui.services.downloads import DownloadError, DownloadSpec, HttpDownload, Kind
from tests.fakes.download_server import DownloadServer, ThreadedServer
from tests.fakes.payloads import pickle_payload, safetensors_payload
from tests.integration.test_download_cli import run

LOGIN = b"<!doctype html><html><head><title>Sign in</title></head><body>" + b"x" * 5000 + b"</html>"
DATA = safetensors_payload(300_000)


@pytest.fixture
async def server() -> DownloadServer:
    async with DownloadServer() as srv:
        yield srv  # type: ignore[misc]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "library" / "models"
    path.mkdir(parents=True)
    return path


async def fetch(url: str, root: Path, folder: str = "loras") -> HttpDownload:
    spec = DownloadSpec(kind=Kind.URL, key=f"url:{url}", url=url, folder=folder, allow_local=True)
    engine = HttpDownload(spec, root)
    async for _event in engine.run():
        pass
    return engine


def listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", "application/octet-stream"])
async def test_a_login_page_saved_as_safetensors_fails_and_leaves_nothing(
    server: DownloadServer, root: Path, content_type: str
) -> None:
    url = server.add("/m.safetensors", LOGIN, headers={"Content-Type": content_type})
    with pytest.raises(DownloadError, match=r"sent a web page \(a login page\?\)") as exc:
        await fetch(url, root)
    assert "CIVITAI_API_TOKEN / HF_TOKEN" in str(exc.value)
    assert listing(root) in ([], ["loras"])


async def test_a_truncated_safetensors_header_fails(server: DownloadServer, root: Path) -> None:
    url = server.add("/m.safetensors", DATA[:20])
    with pytest.raises(DownloadError, match="truncated"):
        await fetch(url, root)
    assert listing(root) in ([], ["loras"])


async def test_random_bytes_are_not_a_checkpoint(server: DownloadServer, root: Path) -> None:
    url = server.add("/m.ckpt", b"\x00\x01" + os.urandom(5000))
    with pytest.raises(DownloadError, match="neither a zip"):
        await fetch(url, root)
    assert listing(root) in ([], ["loras"])


@pytest.mark.parametrize(
    ("disposition", "name"),
    [
        ('attachment; filename=".bashrc"', "bashrc"),
        ("attachment; filename*=UTF-8''evil%00name%0A.safetensors", "evilname.safetensors"),
        ('attachment; filename="../x.safetensors"', "x.safetensors"),
        ("attachment; filename*=UTF-8''..%2F..%2F.ssh%2Fauthorized_keys", "authorized_keys"),
        ('attachment; filename="' + "a" * 400 + '.safetensors"', "a" * 188 + ".safetensors"),
    ],
)
async def test_hostile_server_names_are_made_safe(
    server: DownloadServer, root: Path, disposition: str, name: str
) -> None:
    url = server.add("/api/download/1", DATA, content_disposition=disposition)
    engine = await fetch(url, root)
    assert engine.target == root / "loras" / name
    assert listing(root) == ["loras", f"loras/{name}"]


async def test_a_clash_with_a_server_name_gets_a_suffix(server: DownloadServer, root: Path) -> None:
    (root / "loras").mkdir()
    (root / "loras" / "style.safetensors").write_bytes(b"mine")
    (root / "loras" / "style-2.safetensors").write_bytes(b"mine too")
    url = server.add("/api/download/2", DATA, content_disposition='filename="style.safetensors"')
    engine = await fetch(url, root)
    assert engine.target == root / "loras" / "style-3.safetensors"
    assert (root / "loras" / "style.safetensors").read_bytes() == b"mine"
    assert (root / "loras" / "style-3.safetensors").read_bytes() == DATA


async def test_a_pickle_checkpoint_passes(server: DownloadServer, root: Path) -> None:
    payload = pickle_payload(100_000)
    engine = await fetch(server.add("/m.pt", payload), root)
    assert engine.target is not None and engine.target.read_bytes() == payload


def test_cli_exit_1_with_the_web_page_message(data_dir: Path) -> None:
    with ThreadedServer(DownloadServer()) as srv:
        disposition = 'filename="m.safetensors"'
        url = srv.add("/api/download/models/9", LOGIN, content_disposition=disposition)
        result = run(data_dir, url, "--folder", "loras")
    assert result.returncode == 1
    assert "the server sent a web page (a login page?)" in result.stderr
    models = data_dir / "library" / "models"
    assert [p.name for p in models.rglob("*") if p.is_file()] == []

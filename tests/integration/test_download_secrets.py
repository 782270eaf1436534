"""Links with credentials (``?token=``, signatures): the secret never lands in the data dir.

The queue keeps the full link only in memory and, while the download is unfinished, in the
0600 ``downloads.secrets.json``; `downloads.json`, the part's sidecar, the log and the library
index see ``token=***``. After a restart the download resumes with the full link; when that
file is gone the item asks to be added again.
"""

from __future__ import annotations

import asyncio
import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from comfy_tui.logs import setup_logging
from comfy_tui.paths import DataPaths
from comfy_tui.services.downloads import DownloadQueue, DownloadRequest, State
from comfy_tui.services.downloads.url_vault import vault_path
from comfy_tui.settings import Settings
from tests.fakes.download_server import DownloadServer, ThreadedServer
from tests.fakes.payloads import safetensors_payload
from tests.integration.test_download_cli import run
from tests.waiting import until

SECRET = "TopSecretLinkToken0123"
DATA = safetensors_payload(4 * 1024 * 1024)


def files_holding(data_dir: Path, needle: str) -> list[str]:
    """Every file under `data_dir` whose bytes contain `needle`."""
    raw = needle.encode()
    return sorted(
        str(p.relative_to(data_dir))
        for p in data_dir.rglob("*")
        if p.is_file() and not p.is_symlink() and raw in p.read_bytes()
    )


async def no_sleep(delay: float) -> None:
    await asyncio.sleep(0)


def make_queue(data_dir: Path) -> DownloadQueue:
    settings = Settings(data_dir=data_dir, allow_local_downloads=True)
    return DownloadQueue(
        settings, DataPaths(data_dir), engine_options={"sleep": no_sleep}, on_complete=None
    )


def test_cli_download_with_a_token_in_the_link_leaves_no_trace(data_dir: Path) -> None:
    with ThreadedServer(DownloadServer()) as srv:
        url = srv.add("/files/model.safetensors", DATA) + f"?token={SECRET}&download=true"
        result = run(data_dir, url, "--folder", "checkpoints", "--json")
        assert result.returncode == 0, result.stderr
        assert srv.seen("/files/model.safetensors")[0].query == f"token={SECRET}&download=true"
    assert (data_dir / "library/models/checkpoints/model.safetensors").read_bytes() == DATA
    assert SECRET not in result.stdout + result.stderr
    assert '"source": "http://127.0.0.1:' in result.stdout and "token=***" in result.stdout
    assert files_holding(data_dir, SECRET) == []
    assert not vault_path(data_dir / "metadata/downloads.json").exists()


@pytest.fixture
def logged(data_dir: Path) -> Iterator[Path]:
    path = data_dir / "logs" / "comfy-tui.log"
    handler = setup_logging(path, level=logging.DEBUG)
    yield path
    logging.getLogger().removeHandler(handler)
    handler.close()


async def test_a_restart_resumes_with_the_full_link_kept_apart(
    data_dir: Path, logged: Path
) -> None:
    async with DownloadServer() as server:
        signed = "X-Amz-Signature=" + SECRET + "&X-Amz-Credential=AKIA" + SECRET
        url = server.add("/m.safetensors", DATA, rate=2 * 1024 * 1024) + "?" + signed
        first = make_queue(data_dir)
        await first.start()
        item = await first.add(DownloadRequest(url, folder="vae"))
        await until(None, lambda: first.get(item.id).bytes_done > 0)
        await first.close()
        assert first.get(item.id).state is State.QUEUED

        vault = vault_path(data_dir / "metadata/downloads.json")
        assert files_holding(data_dir, SECRET) == ["metadata/downloads.secrets.json"]
        assert stat.S_IMODE(vault.stat().st_mode) == 0o600
        queue_text = (data_dir / "metadata/downloads.json").read_text()
        assert "X-Amz-Signature=***" in queue_text

        server.routes["/m.safetensors"].rate = None
        second = make_queue(data_dir)
        await second.start()
        await second.wait_idle()
        done = second.get(item.id)
        assert done.state is State.DONE, done.error
        resumed = server.seen("/m.safetensors")[-1]
        assert resumed.query == signed and resumed.headers["Range"].startswith("bytes=")
    assert (data_dir / "library/models/vae/m.safetensors").read_bytes() == DATA
    assert "m.safetensors" in logged.read_text()
    assert files_holding(data_dir, SECRET) == []
    assert not vault.exists()


async def test_without_the_kept_link_the_item_asks_to_be_added_again(data_dir: Path) -> None:
    async with DownloadServer() as server:
        url = server.add("/m.safetensors", DATA, rate=1024 * 1024) + f"?sig={SECRET}"
        first = make_queue(data_dir)
        await first.start()
        item = await first.add(DownloadRequest(url, folder="vae"))
        await until(None, lambda: first.get(item.id).bytes_done > 0)
        await first.pause(item.id)
        await first.close()
        vault_path(data_dir / "metadata/downloads.json").unlink()
        asked = len(server.seen("/m.safetensors"))

        second = make_queue(data_dir)
        await second.start()
        stale = second.get(item.id)
        assert stale.needs_url and stale.label == "m.safetensors"
        await second.resume(item.id)
        await second.wait_idle()
        failed = second.get(item.id)
        assert failed.state is State.FAILED
        assert failed.error is not None and "add the download again" in failed.error
        assert len(server.seen("/m.safetensors")) == asked  # nothing was fetched with ***

        server.routes["/m.safetensors"].rate = None
        again = await second.add(DownloadRequest(url, folder="vae"))
        assert again.id == item.id
        await second.wait_idle()
        assert second.get(item.id).state is State.DONE
    assert files_holding(data_dir, SECRET) == []

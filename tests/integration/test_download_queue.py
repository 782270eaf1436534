"""The download queue: limits, pause/resume/cancel, persistence across a restart, updates."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from pathlib import Path

import pytest

from comfy_tui.errors import ValidationError
from comfy_tui.events import Progress
from comfy_tui.paths import DataPaths
from comfy_tui.runner import JobKey, JobKind, JobUpdate
from comfy_tui.services.downloads import DownloadItem, DownloadQueue, DownloadRequest, State
from comfy_tui.services.downloads.store import load_items, save_item
from comfy_tui.settings import Settings
from tests.fakes.download_server import DownloadServer
from tests.fakes.payloads import pickle_payload
from tests.waiting import until

DATA = pickle_payload(6 * 1024 * 1024)
RATE = 12 * 1024 * 1024


async def no_sleep(delay: float) -> None:
    await asyncio.sleep(0)


@pytest.fixture
async def server() -> DownloadServer:
    async with DownloadServer() as srv:
        yield srv  # type: ignore[misc]


def make_queue(data_dir: Path, max_downloads: int = 2) -> DownloadQueue:
    settings = Settings(data_dir=data_dir, allow_local_downloads=True, max_downloads=max_downloads)
    return DownloadQueue(
        settings, DataPaths(data_dir), engine_options={"sleep": no_sleep}, on_complete=None
    )


def models(data_dir: Path, folder: str = "checkpoints") -> list[str]:
    path = data_dir / "library" / "models" / folder
    return sorted(os.listdir(path)) if path.exists() else []


def stored(data_dir: Path) -> list[DownloadItem]:
    return load_items(data_dir / "metadata" / "downloads.json")


async def test_at_most_n_run_at_once_and_all_finish(data_dir: Path, server: DownloadServer) -> None:
    queue = make_queue(data_dir, max_downloads=2)
    await queue.start()
    most = 0
    seen: list[DownloadItem] = []

    async def watch() -> None:
        nonlocal most
        async for item in queue.updates():
            seen.append(item)
            most = max(most, sum(i.state is State.ACTIVE for i in queue.items()))

    watcher = asyncio.create_task(watch())
    jobs: list[JobUpdate] = []
    unsubscribe = queue.on_job(jobs.append)
    for n in range(4):
        url = server.add(f"/m{n}.bin", DATA[: 2 * 1024 * 1024], rate=2 * 1024 * 1024)
        await queue.add(DownloadRequest(url, folder="loras"))
    await queue.wait_idle()
    watcher.cancel()
    unsubscribe()
    assert all(i.state is State.DONE for i in queue.items())
    assert most == 2
    # each download ran as a job of the one runner: typed key, progress, then finished
    ended = {u.key: u.state for u in jobs if u.ended}
    assert ended == {JobKey(JobKind.DOWNLOAD, i.id): "finished" for i in queue.items()}
    assert any(isinstance(u.event, Progress) for u in jobs)
    assert models(data_dir, "loras") == [f"m{n}.bin" for n in range(4)]
    assert any(i.speed for i in seen)  # the live snapshots carry the speed
    assert any(i.bytes_total == 2 * 1024 * 1024 and 0 < i.bytes_done < i.bytes_total for i in seen)
    assert any(i.eta is not None for i in seen)
    assert [i.state for i in stored(data_dir)] == [State.DONE] * 4
    await queue.close()


async def test_pause_keeps_the_part_and_resume_continues(
    data_dir: Path, server: DownloadServer
) -> None:
    url = server.add("/m.bin", DATA, rate=RATE)
    queue = make_queue(data_dir)
    await queue.start()
    item = await queue.add(DownloadRequest(url, folder="checkpoints"))
    await until(None, lambda: queue.get(item.id).bytes_done > 1024 * 1024)
    paused = await queue.pause(item.id)
    assert paused.state is State.PAUSED
    assert models(data_dir) == ["m.bin.part", "m.bin.part.json", "m.bin.part.json.lock"]
    kept = (data_dir / "library/models/checkpoints/m.bin.part").stat().st_size
    assert kept > 0
    assert stored(data_dir)[0].state is State.PAUSED
    server.routes["/m.bin"].rate = None
    await queue.resume(item.id)
    await until(None, lambda: queue.get(item.id).state is State.DONE)
    assert models(data_dir) == ["m.bin"]
    assert server.seen("/m.bin")[-1].headers["Range"] == f"bytes={kept}-"
    done = queue.get(item.id)
    assert done.sha256 == hashlib.sha256(DATA).hexdigest() and done.path is not None
    await queue.close()


async def test_cancel_deletes_the_part(data_dir: Path, server: DownloadServer) -> None:
    url = server.add("/m.bin", DATA, rate=RATE)
    queue = make_queue(data_dir)
    await queue.start()
    item = await queue.add(DownloadRequest(url, folder="checkpoints"))
    await until(None, lambda: queue.get(item.id).bytes_done > 1024 * 1024)
    cancelled = await queue.cancel(item.id)
    assert cancelled.state is State.CANCELLED
    assert models(data_dir) == []
    assert stored(data_dir)[0].state is State.CANCELLED
    await queue.close()


async def test_cancel_a_paused_download(data_dir: Path, server: DownloadServer) -> None:
    url = server.add("/m.bin", DATA, rate=RATE)
    queue = make_queue(data_dir)
    await queue.start()
    item = await queue.add(DownloadRequest(url, folder="checkpoints"))
    await until(None, lambda: queue.get(item.id).bytes_done > 1024 * 1024)
    await queue.pause(item.id)
    assert models(data_dir) != []
    await queue.cancel(item.id)
    assert models(data_dir) == []
    updates = queue.updates()
    next_update = asyncio.ensure_future(anext(updates))
    await asyncio.sleep(0)
    await queue.remove(item.id)
    assert queue.items() == [] and stored(data_dir) == []
    last = await next_update
    assert last.id == item.id and last.removed
    await updates.aclose()


async def test_queue_resumes_after_a_restart(data_dir: Path, server: DownloadServer) -> None:
    url = server.add("/m.bin", DATA, rate=RATE)
    first = make_queue(data_dir)
    await first.start()
    item = await first.add(DownloadRequest(url, folder="vae"))
    queued = await first.add(DownloadRequest(server.add("/other.bin", DATA[:1000]), folder="vae"))
    await until(None, lambda: first.get(item.id).bytes_done > 1024 * 1024)
    await first.close()  # the app quits mid-download
    assert {i.state for i in stored(data_dir)} <= {State.QUEUED, State.DONE}
    kept = (data_dir / "library/models/vae/m.bin.part").stat().st_size

    server.routes["/m.bin"].rate = None
    second = make_queue(data_dir)
    await second.start()
    await second.wait_idle()
    assert {i.id: i.state for i in second.items()} == {
        item.id: State.DONE,
        queued.id: State.DONE,
    }
    assert (data_dir / "library/models/vae/m.bin").read_bytes() == DATA
    assert server.seen("/m.bin")[-1].headers["Range"] == f"bytes={kept}-"
    await second.close()


async def test_a_download_running_when_killed_is_queued_again(
    data_dir: Path, server: DownloadServer
) -> None:
    url = server.add("/m.bin", DATA)
    queue_file = data_dir / "metadata" / "downloads.json"
    item = DownloadItem(
        id="abc123",
        request=DownloadRequest(url, folder="vae"),
        state=State.ACTIVE,
        key=f"url:{url}",
        folder="vae",
    )
    save_item(queue_file, item)
    paused = DownloadItem(
        id="def456",
        request=DownloadRequest(server.add("/p.bin", DATA), folder="vae"),
        state=State.PAUSED,
        key="url:p",
        folder="vae",
    )
    save_item(queue_file, paused)
    queue = make_queue(data_dir)
    await queue.start()
    await queue.wait_idle()
    assert queue.get("abc123").state is State.DONE
    assert queue.get("def456").state is State.PAUSED  # paused stays paused
    assert server.seen("/p.bin") == []
    await queue.close()


async def test_a_failure_is_recorded_with_its_reason(
    data_dir: Path, server: DownloadServer
) -> None:
    queue = make_queue(data_dir)
    await queue.start()
    item = await queue.add(DownloadRequest(server.url("/missing.bin"), folder="checkpoints"))
    await queue.wait_idle()
    failed = queue.get(item.id)
    assert failed.state is State.FAILED
    assert failed.error is not None and "HTTP 404" in failed.error
    assert models(data_dir) == []
    assert stored(data_dir)[0].error == failed.error
    await queue.close()


async def test_the_same_download_is_not_queued_twice(
    data_dir: Path, server: DownloadServer
) -> None:
    url = server.add("/m.bin", DATA, rate=RATE)
    queue = make_queue(data_dir)
    await queue.start()
    first = await queue.add(DownloadRequest(url, folder="checkpoints"))
    second = await queue.add(DownloadRequest(url, folder="checkpoints"))
    assert first.id == second.id and len(queue.items()) == 1
    await queue.cancel(first.id)
    await queue.close()


@pytest.mark.parametrize(
    "request_",
    [
        DownloadRequest("http://models.example/m.bin", folder="vae"),
        DownloadRequest("javascript:alert(1)", folder="vae"),
        DownloadRequest("https://user:secret@models.example/m.bin", folder="vae"),
        DownloadRequest("https://models.example/m.bin"),
        DownloadRequest("https://models.example/m.bin", folder="vae", revision="main"),
    ],
)
async def test_bad_requests_store_nothing(data_dir: Path, request_: DownloadRequest) -> None:
    queue = DownloadQueue(Settings(data_dir=data_dir), DataPaths(data_dir), on_complete=None)
    with pytest.raises(ValidationError):
        await queue.add(request_)
    assert not data_dir.exists() or not (data_dir / "metadata" / "downloads.json").exists()
    assert not (data_dir / "library").exists()


async def test_an_unreadable_entry_is_skipped(data_dir: Path, server: DownloadServer) -> None:
    queue_file = data_dir / "metadata" / "downloads.json"
    queue_file.parent.mkdir(parents=True)
    queue_file.write_text(json.dumps({"schema_version": 1, "items": [{"id": "x"}, "junk"]}))
    queue = make_queue(data_dir)
    await queue.start()
    assert queue.items() == []
    item = await queue.add(DownloadRequest(server.add("/m.bin", DATA[:100]), folder="vae"))
    await queue.wait_idle()
    assert queue.get(item.id).state is State.DONE
    await queue.close()


async def test_unreachable_source_pauses_and_keeps_the_part(data_dir: Path) -> None:
    """After a restart a CivitAI item is resolved again; if the API is down, it waits."""
    api = "http://127.0.0.1:9"  # the discard port: nothing listens
    folder = data_dir / "library/models/loras"
    folder.mkdir(parents=True)
    (folder / "style.safetensors.part").write_bytes(b"x" * 100)
    save_item(
        data_dir / "metadata" / "downloads.json",
        DownloadItem(
            id="c1",
            request=DownloadRequest(f"{api}/api/download/models/5"),
            state=State.QUEUED,
            key="civitai:5",
            folder="loras",
            filename="style.safetensors",
        ),
    )
    settings = Settings(data_dir=data_dir, civitai_api=api)
    queue = DownloadQueue(settings, DataPaths(data_dir), on_complete=None)
    await queue.start()
    await queue.wait_idle()
    item = queue.get("c1")
    assert item.state is State.PAUSED
    assert item.error is not None and "cannot reach CivitAI" in item.error
    assert models(data_dir, "loras") == ["style.safetensors.part"]
    await queue.close()


async def test_a_hard_failure_leaves_no_part(data_dir: Path, server: DownloadServer) -> None:
    url = server.add("/m.bin", DATA, rate=RATE)
    queue = make_queue(data_dir)
    await queue.start()
    item = await queue.add(DownloadRequest(url, folder="vae"))
    await until(None, lambda: queue.get(item.id).bytes_done > 1024 * 1024)
    await queue.pause(item.id)
    assert models(data_dir, "vae") != []
    server.routes["/m.bin"].status = 410  # the file is gone for good
    await queue.resume(item.id)
    await queue.wait_idle()
    assert queue.get(item.id).state is State.FAILED
    assert models(data_dir, "vae") == []
    await queue.close()

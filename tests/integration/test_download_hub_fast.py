"""Hub files through huggingface_hub's fast path (hf_xet / hf_transfer), against the fake Hub.

What runs for real: the choice (`fast_path` from what is importable), our engine seeing the
Hub's ``X-Xet-Hash`` and handing over before a byte is written, the child process running
``hf_hub_download`` against the fake endpoint into the staging folder, the sha256 check and
the rename into the library, progress through the queue, tokens. What does not: Xet storage
itself (no fake of it): the child's huggingface_hub runs with ``HF_HUB_DISABLE_XET=1`` (set for
every test in conftest), so it fetches the bytes from the fake CDN over plain HTTP.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from comfy_tui.events import LogLine, Progress
from comfy_tui.paths import DataPaths
from comfy_tui.services.downloads import (
    DownloadQueue,
    DownloadRequest,
    Resolver,
    State,
    hub_fast,
    wiring,
)
from comfy_tui.services.downloads.partfile import PartFile
from comfy_tui.settings import Settings
from tests.fakes.fake_hf import COMMIT, FakeHub
from tests.fakes.payloads import safetensors_payload

BIG = safetensors_payload(3 * 1024 * 1024 + 11)
PLAIN = safetensors_payload(1024 * 1024 + 5)
TOKEN = "hf_FakeTokenForTests1234567890"
FILE = "unet/model.safetensors"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
async def hub() -> FakeHub:
    async with FakeHub() as fake:
        fake.add_repo("org/xet", {FILE: BIG, "vae/plain.safetensors": PLAIN},
                      lfs={FILE, "vae/plain.safetensors"}, xet={FILE})  # fmt: skip
        fake.add_repo("org/gated", {FILE: BIG}, lfs={FILE}, xet={FILE}, gated=True, token=TOKEN)
        yield fake  # type: ignore[misc]


@pytest.fixture
def xet_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if hf_xet were importable and enabled (the tests' environment disables Xet)."""
    monkeypatch.setattr(wiring, "fast_path", lambda: "hf_xet")


async def fetch(
    data_dir: Path, hub: FakeHub, request: DownloadRequest, **options: Any
) -> tuple[DownloadQueue, list[object]]:
    settings = Settings(data_dir=data_dir, hf_endpoint=hub.base, **options)
    queue = DownloadQueue(settings, DataPaths(data_dir), on_complete=None)
    item = await queue.prepare(request)
    events: list[object] = []
    try:
        async for event in queue.run_now(item.id):
            events.append(event)
    except Exception as exc:
        events.append(exc)
    return queue, events


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_which_fast_path_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    installed: set[str] = set()
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: object() if name in installed else None
    )
    assert hub_fast.fast_path({}) is None
    installed.add("hf_transfer")
    monkeypatch.setattr(hub_fast, "_hub_major", lambda: 1)
    assert hub_fast.fast_path({}) is None  # huggingface_hub 1.x no longer uses hf_transfer
    monkeypatch.setattr(hub_fast, "_hub_major", lambda: 0)
    assert hub_fast.fast_path({}) == "hf_transfer"
    installed.add("hf_xet")
    assert hub_fast.fast_path({}) == "hf_xet"
    assert hub_fast.fast_path({"HF_HUB_DISABLE_XET": "1"}) == "hf_transfer"


async def test_an_xet_file_goes_through_huggingface_hub(
    data_dir: Path, hub: FakeHub, xet_installed: None
) -> None:
    queue, events = await fetch(data_dir, hub, DownloadRequest("org/xet", FILE))
    [item] = queue.items()
    assert item.state is State.DONE, events
    target = data_dir / "library/models/diffusion_models/model.safetensors"
    assert target.read_bytes() == BIG and item.path == str(target)
    assert item.sha256 == sha(BIG) and item.commit == COMMIT
    assert any(isinstance(e, LogLine) and "huggingface_hub (hf_xet)" in e.text for e in events)
    methods = [(r.method, r.path) for r in hub.requests]
    assert methods[0] == ("GET", f"/org/xet/resolve/main/{FILE}")  # ours: it saw X-Xet-Hash
    assert ("HEAD", f"/org/xet/resolve/main/{FILE}") in methods  # then huggingface_hub's
    assert len(hub.cdn_requests) == 1  # only huggingface_hub fetched the bytes
    assert leftovers(target.parent) == ["model.safetensors"]  # no .part, no staging folder


async def test_a_file_not_on_xet_stays_with_our_engine(
    data_dir: Path, hub: FakeHub, xet_installed: None
) -> None:
    queue, events = await fetch(data_dir, hub, DownloadRequest("org/xet", "vae/plain.safetensors"))
    [item] = queue.items()
    assert item.state is State.DONE, events
    assert (data_dir / "library/models/vae/plain.safetensors").read_bytes() == PLAIN
    assert all(r.method == "GET" for r in hub.requests)  # huggingface_hub never ran
    assert not any(isinstance(e, LogLine) and "huggingface_hub" in e.text for e in events)


async def test_without_the_package_our_engine_fetches_xet_files(
    data_dir: Path, hub: FakeHub
) -> None:
    assert hub_fast.fast_path() is None  # the tests run with HF_HUB_DISABLE_XET=1
    queue, events = await fetch(data_dir, hub, DownloadRequest("org/xet", FILE))
    [item] = queue.items()
    assert item.state is State.DONE and item.sha256 == sha(BIG), events
    assert all(r.method == "GET" for r in hub.requests)


async def test_when_huggingface_hub_fails_on_its_own_our_engine_takes_over(
    data_dir: Path, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Xet on for real (where hf_xet is installed): the child's huggingface_hub tries Xet
    storage, which the fake Hub does not have, fails, and our engine fetches the file."""
    monkeypatch.delenv("HF_HUB_DISABLE_XET")
    mode = hub_fast.fast_path()
    queue, events = await fetch(data_dir, hub, DownloadRequest("org/xet", FILE))
    [item] = queue.items()
    assert item.state is State.DONE and item.sha256 == sha(BIG), events
    if mode == "hf_xet":
        lines = [e.text for e in events if isinstance(e, LogLine)]
        assert any("fetching it without huggingface_hub" in line for line in lines), lines
    folder = data_dir / "library/models/diffusion_models"
    assert leftovers(folder) == ["model.safetensors"]


async def test_the_hub_path_checks_the_sha256_asked_for(
    data_dir: Path, hub: FakeHub, xet_installed: None
) -> None:
    wrong = "0" * 64
    queue, _ = await fetch(data_dir, hub, DownloadRequest("org/xet", FILE, sha256=wrong))
    [item] = queue.items()
    assert item.state is State.FAILED and "sha256 mismatch" in (item.error or "")
    assert leftovers(data_dir / "library/models/diffusion_models") == []  # nothing half-kept


async def test_the_token_goes_to_huggingface_hub_only_when_handed(
    data_dir: Path, hub: FakeHub, xet_installed: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_NotHandedToThisDownload0000")
    queue, _ = await fetch(data_dir, hub, DownloadRequest("org/gated", FILE))
    [item] = queue.items()
    assert item.state is State.FAILED and "is gated" in (item.error or "")
    assert all("Authorization" not in r.headers for r in hub.requests)
    hub.requests.clear()
    queue, events = await fetch(data_dir / "2", hub, DownloadRequest("org/gated", FILE),
                                hf_token=TOKEN)  # fmt: skip
    [item] = queue.items()
    assert item.state is State.DONE and item.sha256 == sha(BIG), events
    heads = [r for r in hub.requests if r.method == "HEAD"]
    assert heads and all(r.headers.get("Authorization") == f"Bearer {TOKEN}" for r in heads)


async def test_hf_transfer_takes_every_hub_file(
    data_dir: Path, hub: FakeHub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(wiring, "fast_path", lambda: "hf_transfer")
    queue, events = await fetch(data_dir, hub, DownloadRequest("org/xet", "vae/plain.safetensors"))
    [item] = queue.items()
    assert item.state is State.DONE and item.sha256 == sha(PLAIN), events
    assert hub.requests[0].method == "HEAD"  # straight to huggingface_hub, ours never asked
    assert any(isinstance(e, LogLine) and "(hf_transfer)" in e.text for e in events)


async def test_the_setting_turns_the_fast_path_off(
    data_dir: Path, hub: FakeHub, xet_installed: None
) -> None:
    queue, _ = await fetch(data_dir, hub, DownloadRequest("org/xet", FILE), hf_fast_path=False)
    [item] = queue.items()
    assert item.state is State.DONE and all(r.method == "GET" for r in hub.requests)
    assert os.path.exists(item.path or "")


SLOW_CHILD = """
import json, os, sys, time
request = json.loads(sys.stdin.readline())
os.makedirs(request["local_dir"], exist_ok=True)
with open(os.path.join(request["local_dir"], "pid"), "w") as f:
    f.write(str(os.getpid()))
with open(os.path.join(request["local_dir"], "x.incomplete"), "wb") as f:
    f.write(b"x" * 1000)
print(json.dumps({"size": 5000, "commit": None, "sha256": None, "xet": True}), flush=True)
time.sleep(600)
"""


async def test_a_pause_stops_the_child_and_keeps_what_it_fetched(
    data_dir: Path, hub: FakeHub
) -> None:
    spec = await Resolver(Settings(data_dir=data_dir, hf_endpoint=hub.base)).resolve(
        DownloadRequest("org/xet", FILE)
    )
    root = data_dir / "library/models"
    download = hub_fast.HubDownload(
        spec, Settings(data_dir=data_dir, hf_endpoint=hub.base), root, mode="hf_xet",
        command=[sys.executable, "-c", SLOW_CHILD],
    )  # fmt: skip
    events = download.run()
    async for event in events:
        if isinstance(event, Progress) and event.bytes_done:
            break
    await events.aclose()  # what a pause does to the job
    assert download.bytes_done >= 1000 and download.bytes_total == 5000
    stage = root / spec.folder / ".model.safetensors.hub"
    assert (stage / "x.incomplete").stat().st_size == 1000  # kept for the resume
    with pytest.raises(ProcessLookupError):  # the child was killed (and reaped)
        os.kill(int((stage / "pid").read_text()), 0)
    part = PartFile(root / spec.folder / "model.safetensors")
    part.open()  # the lock was let go (and the child is gone: aclose returned)
    part.close()

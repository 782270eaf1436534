"""Hugging Face downloads through the resolve URL, against a fake Hub (and its CDN) on loopback."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest

from comfy_tui.errors import NotFoundError, ValidationError
from comfy_tui.paths import DataPaths
from comfy_tui.services.downloads import (
    DownloadError,
    DownloadQueue,
    DownloadRequest,
    Kind,
    Resolver,
    State,
    list_repo_files,
)
from comfy_tui.settings import Settings
from tests.fakes.fake_hf import COMMIT, FakeHub
from tests.fakes.payloads import safetensors_payload

BIG = safetensors_payload(2 * 1024 * 1024 + 7)
SMALL = b'{"model_type": "test"}\n'
TOKEN = "hf_FakeTokenForTests1234567890"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
async def hub() -> FakeHub:
    async with FakeHub() as fake:
        fake.add_repo(
            "org/flux",
            {"split_files/vae/ae.safetensors": BIG, "config.json": SMALL},
            lfs={"split_files/vae/ae.safetensors"},
        )
        fake.add_repo("org/gated", {"model.safetensors": BIG}, lfs={"model.safetensors"},
                      gated=True, token=TOKEN)  # fmt: skip
        yield fake  # type: ignore[misc]


def settings_for(data_dir: Path, hub: FakeHub, **options: object) -> Settings:
    return Settings(data_dir=data_dir, hf_endpoint=hub.base, **options)  # type: ignore[arg-type]


async def download(settings: Settings, request: DownloadRequest) -> DownloadQueue:
    queue = DownloadQueue(settings, DataPaths(settings.data_dir), on_complete=None)
    item = await queue.prepare(request)
    async for _event in queue.run_now(item.id):
        pass
    return queue


async def test_repo_and_file_lands_verified_with_commit(data_dir: Path, hub: FakeHub) -> None:
    settings = settings_for(data_dir, hub)
    queue = await download(settings, DownloadRequest("org/flux", "split_files/vae/ae.safetensors"))
    [item] = queue.items()
    target = data_dir / "library/models/vae/ae.safetensors"
    assert item.state is State.DONE and item.path == str(target)
    assert target.read_bytes() == BIG
    assert item.sha256 == sha(BIG) and item.commit == COMMIT and item.kind is Kind.HF
    hops = [r.path for r in hub.requests]
    assert hops == ["/org/flux/resolve/main/split_files/vae/ae.safetensors"]
    assert [r.path for r in hub.cdn_requests] == [f"/blobs/{sha(BIG)}"]


async def test_url_form_uses_the_configured_endpoint(data_dir: Path, hub: FakeHub) -> None:
    settings = settings_for(data_dir, hub)
    url = "https://huggingface.co/org/flux/blob/main/config.json"
    await download(settings, DownloadRequest(url, folder="configs"))
    assert (data_dir / "library/models/configs/config.json").read_bytes() == SMALL
    assert hub.requests[0].path == "/org/flux/resolve/main/config.json"


async def test_meta_reaches_on_complete(data_dir: Path, hub: FakeHub) -> None:
    settings = settings_for(data_dir, hub)
    queue = DownloadQueue(settings, DataPaths(data_dir), on_complete=None)
    got = []

    async def on_complete(path: Path, meta: object) -> None:
        got.append((path, meta))

    queue.on_complete = on_complete
    item = await queue.prepare(
        DownloadRequest("org/flux", "split_files/vae/ae.safetensors", revision=COMMIT)
    )
    async for _event in queue.run_now(item.id):
        pass
    [(path, meta)] = got
    assert path == data_dir / "library/models/vae/ae.safetensors"
    assert meta.repo_id == "org/flux" and meta.revision == COMMIT  # type: ignore[attr-defined]
    assert meta.commit == COMMIT and meta.sha256 == sha(BIG)  # type: ignore[attr-defined]
    assert meta.path_in_repo == "split_files/vae/ae.safetensors"  # type: ignore[attr-defined]


async def test_the_hub_sha256_is_enforced(data_dir: Path, hub: FakeHub) -> None:
    """X-Linked-Etag names the sha256: a CDN serving other bytes is caught."""
    settings = settings_for(data_dir, hub)
    hub._blobs[sha(BIG)] = safetensors_payload(len(BIG))
    with pytest.raises(DownloadError, match="sha256 mismatch"):
        await download(settings, DownloadRequest("org/flux", "split_files/vae/ae.safetensors"))
    assert list((data_dir / "library/models/vae").iterdir()) == []


async def test_gated_repo_says_accept_the_licence(data_dir: Path, hub: FakeHub) -> None:
    settings = settings_for(data_dir, hub)
    with pytest.raises(DownloadError) as info:
        await download(settings, DownloadRequest("org/gated", "model.safetensors", folder="vae"))
    message = str(info.value)
    assert "org/gated is gated" in message
    assert f"accept the licence at {hub.base}/org/gated" in message
    assert "set a token" in message
    assert list((data_dir / "library/models/vae").iterdir()) == []


async def test_gated_repo_with_a_token(data_dir: Path, hub: FakeHub) -> None:
    settings = settings_for(data_dir, hub, hf_token=TOKEN)
    await download(settings, DownloadRequest("org/gated", "model.safetensors", folder="vae"))
    assert (data_dir / "library/models/vae/model.safetensors").read_bytes() == BIG
    assert hub.requests[0].headers["Authorization"] == f"Bearer {TOKEN}"
    assert "Authorization" not in hub.cdn_requests[0].headers  # another origin


@pytest.mark.parametrize(
    ("request_", "needle"),
    [
        (DownloadRequest("org/nope", "a.safetensors", folder="vae"), "not found"),
        (DownloadRequest("org/flux", "nope.safetensors", folder="vae"), "file not found"),
        (
            DownloadRequest("org/flux", "config.json", folder="vae", revision="v9"),
            "revision 'v9' not found",
        ),
    ],
)
async def test_hub_errors_are_one_clear_line(
    data_dir: Path, hub: FakeHub, request_: DownloadRequest, needle: str
) -> None:
    with pytest.raises(DownloadError, match=needle) as info:
        await download(settings_for(data_dir, hub), request_)
    assert "\n" not in str(info.value)


async def test_killed_download_resumes_from_the_part(data_dir: Path, hub: FakeHub) -> None:
    settings = settings_for(data_dir, hub)
    folder = data_dir / "library/models/vae"
    folder.mkdir(parents=True)
    # An earlier run got half the file from the CDN, then died (its sidecar says so).
    from comfy_tui.services.downloads.partfile import PartFile

    part = PartFile(folder / "ae.safetensors")
    part.open()
    part.append(BIG[: len(BIG) // 2])
    part.write_sidecar(
        {
            "source": "hf:org/flux@main:split_files/vae/ae.safetensors",
            "etag": f'"cdn-{sha(BIG)[:20]}"',
            "total": len(BIG),
        }
    )
    part.close()
    await download(settings, DownloadRequest("org/flux", "split_files/vae/ae.safetensors"))
    assert (folder / "ae.safetensors").read_bytes() == BIG
    assert hub.cdn_requests[0].headers["Range"] == f"bytes={len(BIG) // 2}-"


async def test_list_repo_files(data_dir: Path, hub: FakeHub) -> None:
    files = await list_repo_files(settings_for(data_dir, hub), "org/flux")
    assert [(f.path, f.size) for f in files] == [
        ("config.json", len(SMALL)),
        ("split_files/vae/ae.safetensors", len(BIG)),
    ]
    assert files[1].sha256 == sha(BIG) and files[0].sha256 is None


async def test_list_gated_and_missing(data_dir: Path, hub: FakeHub) -> None:
    with pytest.raises(DownloadError, match="accept the licence"):
        await list_repo_files(settings_for(data_dir, hub), "org/gated")
    with pytest.raises(NotFoundError, match="not found"):
        await list_repo_files(settings_for(data_dir, hub), "org/nope")
    files = await list_repo_files(settings_for(data_dir, hub, hf_token=TOKEN), "org/gated")
    assert [f.path for f in files] == ["model.safetensors"]


@pytest.mark.parametrize(
    "request_",
    [
        DownloadRequest("org/flux"),
        DownloadRequest("org//flux", "a.pt", folder="vae"),
        DownloadRequest("org/flux", "../a.pt", folder="vae"),
        DownloadRequest("org/flux", "a.pt"),  # no folder to guess
        DownloadRequest("org/flux", "a.pt", folder="nowhere"),
        DownloadRequest("org/flux", "a.pt", folder="vae", revision="a b"),
        DownloadRequest("org/flux", ".hidden", folder="vae"),
        DownloadRequest("org/flux", "a.pt", folder="vae", sha256="xyz"),
        DownloadRequest("https://huggingface.co/org/flux/resolve/main/a.pt", "again"),
    ],
)
async def test_bad_hub_requests_are_refused(
    data_dir: Path, hub: FakeHub, request_: DownloadRequest
) -> None:
    with pytest.raises(ValidationError):
        await Resolver(settings_for(data_dir, hub)).resolve(request_)


async def test_the_token_is_not_stored(data_dir: Path, hub: FakeHub) -> None:
    settings = settings_for(data_dir, hub, hf_token=TOKEN)
    await download(settings, DownloadRequest("org/gated", "model.safetensors", folder="vae"))
    queue_file = data_dir / "metadata" / "downloads.json"
    assert TOKEN not in queue_file.read_text()
    spec = await Resolver(settings).resolve(DownloadRequest("org/gated", "m.pt", folder="vae"))
    assert TOKEN not in repr(spec) and TOKEN not in repr(replace(spec))

"""The HTTP download engine against a loopback server that fails on purpose.

Every case ends with the right file (sha256 checked) or one clear error, and the library folder
holds nothing else: no `.part` unless the download can resume from it.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
from collections import namedtuple
from collections.abc import Sequence
from pathlib import Path

import pytest

from comfy_tui.errors import LockBusyError
from comfy_tui.events import Event, Finished, LogLine, Progress
from comfy_tui.services.downloads import (
    AlreadyExistsError,
    ChecksumError,
    DownloadError,
    DownloadMeta,
    DownloadSpec,
    HttpDownload,
    Kind,
    RetryPolicy,
)
from comfy_tui.services.downloads.partfile import PartFile
from tests.fakes.download_server import DownloadServer
from tests.fakes.payloads import pickle_payload

DiskUsage = namedtuple("DiskUsage", "total used free")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Sleeps:
    """An injected sleep that records the delays and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


def spec_for(url: str, folder: str = "checkpoints", **options: object) -> DownloadSpec:
    return DownloadSpec(
        kind=Kind.URL, key=f"url:{url}", url=url, folder=folder, allow_local=True, **options
    )  # type: ignore[arg-type]


def engine_for(spec: DownloadSpec, root: Path, **options: object) -> HttpDownload:
    options.setdefault("sleep", Sleeps())
    return HttpDownload(spec, root, **options)  # type: ignore[arg-type]


async def collect(engine: HttpDownload) -> list[Event]:
    return [event async for event in engine.run()]


def files_in(directory: Path) -> list[str]:
    return sorted(os.listdir(directory)) if directory.exists() else []


@pytest.fixture
async def server() -> DownloadServer:
    async with DownloadServer() as srv:
        yield srv  # type: ignore[misc]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "library" / "models"
    path.mkdir(parents=True)
    return path


PAYLOAD = pickle_payload(3 * 1024 * 1024 + 123)


async def test_download_lands_verified_and_calls_on_complete(
    server: DownloadServer, root: Path
) -> None:
    url = server.add("/files/model.ckpt", PAYLOAD)
    seen: list[tuple[Path, DownloadMeta]] = []

    async def on_complete(path: Path, meta: DownloadMeta) -> None:
        seen.append((path, meta))

    engine = engine_for(spec_for(url, expected_sha256=sha(PAYLOAD)), root, on_complete=on_complete)
    events = await collect(engine)
    target = root / "checkpoints" / "model.ckpt"
    assert target.read_bytes() == PAYLOAD
    assert files_in(target.parent) == ["model.ckpt"]
    assert isinstance(events[-1], Finished) and events[-1].detail == str(target)
    fractions = [e.fraction for e in events if isinstance(e, Progress)]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    [(path, meta)] = seen
    assert path == target
    assert meta.sha256 == sha(PAYLOAD) and meta.size == len(PAYLOAD)
    assert meta.folder == "checkpoints" and meta.filename == "model.ckpt"
    assert meta.url == url and meta.etag is not None
    assert server.seen("/files/model.ckpt")[0].headers["Accept-Encoding"] == "identity"


async def test_resume_after_a_dropped_connection(server: DownloadServer, root: Path) -> None:
    url = server.add("/m.bin", PAYLOAD, drop_after=[1_000_000])
    engine = engine_for(spec_for(url), root)
    events = await collect(engine)
    assert (root / "checkpoints" / "m.bin").read_bytes() == PAYLOAD
    first, second = server.seen("/m.bin")
    assert "Range" not in first.headers
    assert second.headers["Range"] == "bytes=1000000-"
    assert second.headers["If-Range"] == server.routes["/m.bin"].etag()
    assert any(isinstance(e, LogLine) and "retrying" in e.text for e in events)
    assert engine.meta is not None and engine.meta.sha256 == sha(PAYLOAD)


async def test_resume_across_runs_rehashes_the_part(server: DownloadServer, root: Path) -> None:
    url = server.add("/m.bin", PAYLOAD, drop_after=[2_000_000])
    no_retry = RetryPolicy(max_retries=0)
    with pytest.raises(DownloadError) as info:
        await collect(engine_for(spec_for(url), root, retry=no_retry))
    assert info.value.resumable and "run it again to resume" in str(info.value)
    folder = root / "checkpoints"
    assert files_in(folder) == ["m.bin.part", "m.bin.part.json", "m.bin.part.json.lock"]
    assert (folder / "m.bin.part").stat().st_size == 2_000_000

    # A new run that does not know the name yet: the first answer names it, then it resumes.
    engine = engine_for(spec_for(url, expected_sha256=sha(PAYLOAD)), root)
    events = await collect(engine)
    assert (folder / "m.bin").read_bytes() == PAYLOAD
    assert files_in(folder) == ["m.bin"]
    ranges = [r.headers.get("Range") for r in server.seen("/m.bin")]
    assert ranges == [None, None, "bytes=2000000-"]
    assert engine.resumed_from == 2_000_000
    assert any(isinstance(e, Progress) and e.step.startswith("verify") for e in events)


async def test_resume_with_a_known_name_asks_for_the_range_at_once(
    server: DownloadServer, root: Path
) -> None:
    url = server.add("/m.bin", PAYLOAD, drop_after=[1_500_000])
    with pytest.raises(DownloadError):
        await collect(engine_for(spec_for(url), root, retry=RetryPolicy(max_retries=0)))
    await collect(engine_for(spec_for(url, filename="m.bin"), root))
    assert (root / "checkpoints" / "m.bin").read_bytes() == PAYLOAD
    assert [r.headers.get("Range") for r in server.seen("/m.bin")] == [None, "bytes=1500000-"]


async def test_a_part_of_another_download_is_not_resumed(
    server: DownloadServer, root: Path
) -> None:
    folder = root / "checkpoints"
    folder.mkdir()
    (folder / "m.bin.part").write_bytes(b"junk" * 1000)
    PartFile(folder / "m.bin").write_sidecar({"source": "url:elsewhere", "etag": '"x"'})
    url = server.add("/m.bin", PAYLOAD)
    await collect(engine_for(spec_for(url, filename="m.bin"), root))
    assert (folder / "m.bin").read_bytes() == PAYLOAD
    assert "Range" not in server.seen("/m.bin")[0].headers


async def test_range_ignored_starts_over_clean(server: DownloadServer, root: Path) -> None:
    url = server.add("/m.bin", PAYLOAD, drop_after=[1_000_000], ignore_range=True)
    events = await collect(engine_for(spec_for(url, expected_sha256=sha(PAYLOAD)), root))
    assert (root / "checkpoints" / "m.bin").read_bytes() == PAYLOAD
    assert server.seen("/m.bin")[1].headers["Range"] == "bytes=1000000-"
    assert any(isinstance(e, LogLine) and "starting over" in e.text for e in events)


async def test_changed_file_is_fetched_again_whole(server: DownloadServer, root: Path) -> None:
    new = pickle_payload(len(PAYLOAD))
    url = server.add("/m.bin", PAYLOAD, drop_after=[1_000_000], etags=['"v1"', '"v2"'])
    server.routes["/m.bin"].versions.append(new)
    await collect(engine_for(spec_for(url), root))
    assert (root / "checkpoints" / "m.bin").read_bytes() == new
    second = server.seen("/m.bin")[1]
    assert second.headers["If-Range"] == '"v1"'


async def test_changed_validator_restarts_when_the_server_ignores_if_range(
    server: DownloadServer, root: Path
) -> None:
    new = pickle_payload(len(PAYLOAD))
    url = server.add(
        "/m.bin", PAYLOAD, drop_after=[1_000_000], etags=['"v1"', '"v2"'], ignore_if_range=True
    )
    server.routes["/m.bin"].versions.append(new)
    await collect(engine_for(spec_for(url), root))
    assert (root / "checkpoints" / "m.bin").read_bytes() == new
    ranges = [r.headers.get("Range") for r in server.seen("/m.bin")]
    assert ranges == [None, "bytes=1000000-", None]


async def test_last_modified_works_as_the_validator(server: DownloadServer, root: Path) -> None:
    stamp = "Wed, 21 Oct 2015 07:28:00 GMT"
    url = server.add("/m.bin", PAYLOAD, drop_after=[1_000_000], etags=[""], last_modified=stamp)
    await collect(engine_for(spec_for(url), root))
    assert (root / "checkpoints" / "m.bin").read_bytes() == PAYLOAD
    assert server.seen("/m.bin")[1].headers["If-Range"] == stamp


async def test_no_validator_means_no_resume(server: DownloadServer, root: Path) -> None:
    url = server.add("/m.bin", PAYLOAD, drop_after=[1_000_000], etags=[""])
    await collect(engine_for(spec_for(url), root))
    assert (root / "checkpoints" / "m.bin").read_bytes() == PAYLOAD
    assert [r.headers.get("Range") for r in server.seen("/m.bin")] == [None, None]


async def test_sha256_mismatch_deletes_everything(server: DownloadServer, root: Path) -> None:
    url = server.add("/m.bin", PAYLOAD)
    wrong = "0" * 64
    with pytest.raises(ChecksumError) as info:
        await collect(engine_for(spec_for(url, expected_sha256=wrong), root))
    message = str(info.value)
    assert "sha256 mismatch" in message and wrong in message and sha(PAYLOAD) in message
    assert "deleted" in message
    assert files_in(root / "checkpoints") == []


async def test_server_errors_are_retried_with_backoff(server: DownloadServer, root: Path) -> None:
    url = server.add("/m.bin", PAYLOAD, fail_first=[500, 503, 502])
    sleeps = Sleeps()
    events = await collect(engine_for(spec_for(url), root, sleep=sleeps))
    assert (root / "checkpoints" / "m.bin").read_bytes() == PAYLOAD
    assert sleeps.delays == [1.0, 2.0, 4.0]
    assert sum(isinstance(e, LogLine) and "HTTP 50" in e.text for e in events) == 3


async def test_429_waits_as_long_as_retry_after_says(server: DownloadServer, root: Path) -> None:
    url = server.add("/m.bin", PAYLOAD, fail_first=[429], retry_after="7")
    sleeps = Sleeps()
    await collect(engine_for(spec_for(url), root, sleep=sleeps))
    assert sleeps.delays == [7.0]


async def test_a_retry_after_too_long_fails_clearly(server: DownloadServer, root: Path) -> None:
    url = server.add("/m.bin", PAYLOAD, fail_first=[429], retry_after="86400")
    with pytest.raises(DownloadError, match="asks to wait 1d00h"):
        await collect(engine_for(spec_for(url, filename="m.bin"), root))
    assert files_in(root / "checkpoints") == []


async def test_gives_up_after_the_retries(server: DownloadServer, root: Path) -> None:
    url = server.add("/m.bin", PAYLOAD, fail_first=[500] * 10)
    with pytest.raises(DownloadError, match="gave up after 4 tries"):
        await collect(engine_for(spec_for(url, filename="m.bin"), root, retry=RetryPolicy(3)))
    assert files_in(root / "checkpoints") == []


async def test_connection_refused_is_retried_then_reported(root: Path) -> None:
    sleeps = Sleeps()
    url = "http://127.0.0.1:9/m.bin"  # discard port: nothing listens
    with pytest.raises(DownloadError, match=r"cannot reach 127\.0\.0\.1"):
        await collect(engine_for(spec_for(url), root, sleep=sleeps, retry=RetryPolicy(2)))
    assert sleeps.delays == [1.0, 2.0]


def _chain(server: DownloadServer, hops: int) -> str:
    server.add("/file.bin", PAYLOAD)
    server.add("/hop0", redirect_to="/file.bin")
    for i in range(1, hops):
        server.add(f"/hop{i}", redirect_to=server.url(f"/hop{i - 1}"), redirect_status=307)
    return server.url(f"/hop{hops - 1}")


async def test_ten_redirects_are_followed(server: DownloadServer, root: Path) -> None:
    url = _chain(server, 10)
    await collect(engine_for(spec_for(url), root))
    assert (root / "checkpoints" / "file.bin").read_bytes() == PAYLOAD


async def test_eleven_redirects_are_too_many(server: DownloadServer, root: Path) -> None:
    url = _chain(server, 11)
    with pytest.raises(DownloadError, match="too many redirects"):
        await collect(engine_for(spec_for(url), root))
    assert files_in(root / "checkpoints") == []


async def test_redirect_loop_ends(server: DownloadServer, root: Path) -> None:
    url = server.add("/loop", redirect_to="/loop")
    with pytest.raises(DownloadError, match="too many redirects"):
        await collect(engine_for(spec_for(url, filename="x.bin"), root))
    assert len(server.seen("/loop")) == 11
    assert files_in(root / "checkpoints") == []


async def test_redirect_to_a_refused_url_fails(server: DownloadServer, root: Path) -> None:
    url = server.add("/r", redirect_to="file:///etc/passwd")
    with pytest.raises(DownloadError, match="redirect target"):
        await collect(engine_for(spec_for(url), root))


async def test_token_goes_only_to_the_first_origin(server: DownloadServer, root: Path) -> None:
    async with DownloadServer() as cdn:
        cdn.add("/blob", PAYLOAD)
        url = server.add("/m.bin", redirect_to=cdn.url("/blob"))
        spec = spec_for(url, filename="m.bin", token="sekrit-token-value")
        await collect(engine_for(spec, root))
        assert server.seen("/m.bin")[0].headers["Authorization"] == "Bearer sekrit-token-value"
        assert "Authorization" not in cdn.seen("/blob")[0].headers
    assert (root / "checkpoints" / "m.bin").read_bytes() == PAYLOAD


@pytest.mark.parametrize(
    ("disposition", "name"),
    [
        ('attachment; filename="../../evil"', "evil"),
        ("attachment; filename=../../etc/x", "x"),
        ('attachment; filename=".hidden"', "hidden"),
        ("attachment; filename*=UTF-8''%2E%2E%2Fup.pt", "up.pt"),
    ],
)
async def test_hostile_content_disposition_stays_in_the_folder(
    server: DownloadServer, root: Path, disposition: str, name: str
) -> None:
    url = server.add("/api/download/7", PAYLOAD, content_disposition=disposition)
    await collect(engine_for(spec_for(url, folder="loras"), root))
    assert files_in(root / "loras") == [name]
    assert files_in(root) == ["loras"]
    assert not (root.parent / "evil").exists()


async def test_not_enough_disk_space_creates_nothing(server: DownloadServer, root: Path) -> None:
    url = server.add("/m.bin", PAYLOAD)

    def tiny(path: Path) -> DiskUsage:
        return DiskUsage(10**9, 10**9 - 1000, 1000)

    with pytest.raises(DownloadError, match="not enough disk space") as info:
        await collect(engine_for(spec_for(url), root, disk_usage=tiny))
    assert not info.value.resumable
    assert files_in(root / "checkpoints") == []


class FullDisk(PartFile):
    """A part that hits ENOSPC once `limit` bytes are on disk."""

    limit = 1_000_000

    def write(self, chunks: Sequence[bytes | bytearray], at: int | None = None) -> None:
        if at is not None and at != self.size:
            raise OSError(errno.EIO, "an earlier write to the part failed")
        for data in chunks:
            room = self.limit - self.size
            if len(data) > room:
                super().write([data[:room]])
                raise OSError(errno.ENOSPC, "No space left on device")
            super().write([data])


async def test_disk_full_while_writing_keeps_the_part(server: DownloadServer, root: Path) -> None:
    url = server.add("/m.bin", PAYLOAD)
    with pytest.raises(DownloadError, match="disk is full") as info:
        await collect(engine_for(spec_for(url), root, part_factory=FullDisk))
    assert info.value.resumable
    part = root / "checkpoints" / "m.bin.part"
    assert part.read_bytes() == PAYLOAD[:1_000_000]
    # Space freed: the next run continues from the part.
    await collect(engine_for(spec_for(url, expected_sha256=sha(PAYLOAD)), root))
    assert (root / "checkpoints" / "m.bin").read_bytes() == PAYLOAD
    assert server.seen("/m.bin")[-1].headers["Range"] == "bytes=1000000-"


async def test_cancel_keeps_the_part_for_a_resume(server: DownloadServer, root: Path) -> None:
    big = pickle_payload(8 * 1024 * 1024)
    url = server.add("/m.bin", big, rate=8 * 1024 * 1024)
    engine = engine_for(spec_for(url, filename="m.bin"), root)
    task = asyncio.create_task(collect(engine))
    while engine.bytes_done < 2 * 1024 * 1024:
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    part = root / "checkpoints" / "m.bin.part"
    kept = part.stat().st_size
    assert kept >= 1024 * 1024
    assert (root / "checkpoints" / "m.bin.part.json").exists()
    assert not (root / "checkpoints" / "m.bin").exists()
    server.routes["/m.bin"].rate = None
    await collect(engine_for(spec_for(url, filename="m.bin", expected_sha256=sha(big)), root))
    assert (root / "checkpoints" / "m.bin").read_bytes() == big
    assert server.seen("/m.bin")[-1].headers["Range"] == f"bytes={kept}-"


async def test_not_found_leaves_nothing(server: DownloadServer, root: Path) -> None:
    url = server.url("/missing.bin")
    with pytest.raises(DownloadError, match=r"not found \(HTTP 404\)"):
        await collect(engine_for(spec_for(url, filename="missing.bin"), root))
    assert files_in(root / "checkpoints") == []


async def test_access_denied_says_a_token_may_be_needed(server: DownloadServer, root: Path) -> None:
    url = server.add("/m.bin", status=403)
    with pytest.raises(DownloadError, match="may need a token"):
        await collect(engine_for(spec_for(url), root))


async def test_an_existing_file_is_never_overwritten(server: DownloadServer, root: Path) -> None:
    (root / "checkpoints").mkdir()
    (root / "checkpoints" / "m.bin").write_bytes(b"mine")
    url = server.add("/m.bin", PAYLOAD)
    with pytest.raises(AlreadyExistsError):
        await collect(engine_for(spec_for(url), root))
    assert (root / "checkpoints" / "m.bin").read_bytes() == b"mine"
    assert files_in(root / "checkpoints") == ["m.bin"]


async def test_a_part_locked_by_another_process_is_left_alone(
    server: DownloadServer, root: Path
) -> None:
    url = server.add("/m.bin", PAYLOAD)
    (root / "checkpoints").mkdir()
    other = PartFile(root / "checkpoints" / "m.bin")
    other.open()
    other.append(b"x" * 10)
    try:
        with pytest.raises(LockBusyError, match="another comfy-tui process"):
            await collect(engine_for(spec_for(url, filename="m.bin"), root))
        assert (root / "checkpoints" / "m.bin.part").read_bytes() == b"x" * 10
    finally:
        other.close()


async def test_a_complete_part_is_finished_without_refetching(
    server: DownloadServer, root: Path
) -> None:
    url = server.add("/m.bin", PAYLOAD)
    with pytest.raises(DownloadError):
        await collect(engine_for(spec_for(url, filename="m.bin"), root, part_factory=NoCommit))
    folder = root / "checkpoints"
    assert (folder / "m.bin.part").stat().st_size == len(PAYLOAD)
    await collect(engine_for(spec_for(url, filename="m.bin"), root))
    assert (folder / "m.bin").read_bytes() == PAYLOAD
    assert server.seen("/m.bin")[-1].headers["Range"] == f"bytes={len(PAYLOAD)}-"


class NoCommit(PartFile):
    """A part whose rename fails (as if killed between the last byte and the rename)."""

    def commit(self) -> None:
        raise OSError(errno.EIO, "simulated crash before the rename")


async def test_a_symlinked_folder_out_of_the_library_is_refused(
    server: DownloadServer, root: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "loras").symlink_to(outside)
    url = server.add("/m.bin", PAYLOAD)
    with pytest.raises(Exception, match="escapes"):
        await collect(engine_for(spec_for(url, folder="loras"), root))
    assert files_in(outside) == []

"""Downloads in parallel byte ranges: servers with and without Range, a per-connection rate
cap, connections dropped mid-range, a file that changes, and a kill in a segment then resume."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from comfy_tui.events import Progress
from comfy_tui.services.downloads import DownloadSpec, HttpDownload, Kind, RetryPolicy, segmented
from comfy_tui.services.downloads.partfile import PartFile, sidecar_path
from comfy_tui.services.downloads.protocol import Validator
from comfy_tui.services.downloads.ranges import Done, Ramp, piece_size, pieces
from comfy_tui.services.downloads.segmented import Target
from tests.fakes.download_server import DownloadServer, ThreadedServer
from tests.fakes.payloads import pickle_payload

MIB = 1024 * 1024
DATA = pickle_payload(24 * MIB + 1234)
PIECE = 8 * MIB  # what the engine cuts a 24 MiB file into (its smallest piece)


async def no_sleep(delay: float) -> None:
    await asyncio.sleep(0)


def engine(url: str, root: Path, **options: object) -> HttpDownload:
    spec = DownloadSpec(kind=Kind.URL, key=f"url:{url}", url=url, folder="vae", allow_local=True)
    options.setdefault("connections", 4)
    options.setdefault("segment_min", MIB)
    options.setdefault("sleep", no_sleep)
    options.setdefault("ramp_window", 0.0)  # every connection at once (`Ramp` has unit tests)
    return HttpDownload(spec, root, **options)  # type: ignore[arg-type]


async def run(download: HttpDownload) -> None:
    async for _event in download.run():
        pass


def ranges_asked(server: DownloadServer, path: str) -> list[str | None]:
    return [r.headers.get("Range") for r in server.seen(path)]


@pytest.fixture
async def server() -> DownloadServer:
    async with DownloadServer() as srv:
        yield srv  # type: ignore[misc]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "library" / "models"


def test_ranges_bookkeeping() -> None:
    done = Done([(10, 20), (0, 5), (18, 30), (40, 50)])
    assert done.spans() == [(0, 5), (10, 30), (40, 50)]
    assert done.prefix() == 5 and done.total == 35
    done.add(5, 10)
    assert done.spans() == [(0, 30), (40, 50)] and done.prefix() == 30
    assert list(done.gaps(60)) == [(30, 40), (50, 60)]
    assert pieces(done.gaps(60), 4) == [(30, 34), (34, 38), (38, 40), (50, 54), (54, 58), (58, 60)]
    assert Done.from_doc(done.to_doc(), 60) is not None
    assert Done.from_doc([[0, 70]], 60) is None and Done.from_doc("x", 60) is None
    assert piece_size(1024 * MIB, 4, smallest=8 * MIB, largest=64 * MIB) == 32 * MIB


async def test_a_range_server_gets_parallel_ranges(server: DownloadServer, root: Path) -> None:
    url = server.add("/m.bin", DATA)
    download = engine(url, root)
    await run(download)
    assert (root / "vae" / "m.bin").read_bytes() == DATA
    assert download.meta is not None and download.meta.sha256 == hashlib.sha256(DATA).hexdigest()
    asked = ranges_asked(server, "/m.bin")
    assert asked[0] is None  # the first answer says whether ranges work
    assert sorted(asked[1:]) == sorted(
        f"bytes={a}-{b - 1}" for a, b in pieces([(0, len(DATA))], PIECE)
    )
    assert sorted(os.listdir(root / "vae")) == ["m.bin"]  # no part, no sidecar left


async def test_hashed_right_when_most_bytes_are_read_back(
    server: DownloadServer, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Few written batches kept in memory: the sha256 mixes kept batches and read-back."""
    monkeypatch.setattr(segmented, "KEEP_MAX", 3 * MIB)
    download = engine(server.add("/m.bin", DATA), root)
    await run(download)
    assert download.meta is not None and download.meta.sha256 == hashlib.sha256(DATA).hexdigest()


class StepClock:
    """Each reading one second after the previous one: `Ramp` decides at every progress tick."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


async def test_ramping_reads_on_from_the_first_answer_and_splits_it(
    server: DownloadServer, root: Path
) -> None:
    data = pickle_payload(48 * MIB + 77)
    url = server.add("/r.bin", data, rate=12 * MIB)
    download = engine(url, root, ramp_window=1.0, clock=StepClock())
    await run(download)
    assert (root / "vae" / "r.bin").read_bytes() == data
    assert download.meta is not None and download.meta.sha256 == hashlib.sha256(data).hexdigest()
    asked = ranges_asked(server, "/r.bin")
    assert asked[0] is None  # the first answer streams on: nobody asks for byte 0 again
    later = [int(r.split("=")[1].split("-")[0]) for r in asked[1:] if r]
    assert len(later) == len(asked) - 1
    assert later and min(later) > 16 * MIB  # the next one took the upper part of what was left
    assert server.most_active >= 2


class ScriptedRamp(Ramp):
    """One more connection at the first decision, one fewer at the second, then none."""

    def __init__(self, limit: int, window: float, now: float, done: int) -> None:
        super().__init__(limit, window, now, done)
        self.script = [1, -1]

    def step(self, now: float, done: int) -> int:
        return self.script.pop(0) if self.script else 0


async def test_a_connection_let_go_stops_at_once_and_its_rest_is_fetched(
    server: DownloadServer, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(segmented, "Ramp", ScriptedRamp)
    data = pickle_payload(48 * MIB + 77)
    url = server.add("/r.bin", data, rate=12 * MIB)
    download = engine(url, root, ramp_window=1.0, clock=StepClock())
    await run(download)
    assert (root / "vae" / "r.bin").read_bytes() == data
    assert download.meta is not None and download.meta.sha256 == hashlib.sha256(data).hexdigest()
    asked = ranges_asked(server, "/r.bin")
    split, *rest = [int(r.split("=")[1].split("-")[0]) for r in asked[1:] if r]
    assert rest and min(rest) > split  # what the one let go had not read was asked for later


def test_letting_a_connection_go_queues_what_it_has_not_read(tmp_path: Path) -> None:
    target = Target("http://127.0.0.1:1/m", {}, Validator('"e"', None), 100 * MIB, None, True)
    run = segmented.Segmented(
        session=None, network=None, part=PartFile(tmp_path / "m"), target=target,  # type: ignore[arg-type]
        done=Done(), connections=4, piece=32 * MIB, retry=RetryPolicy(), sleep=no_sleep,
        save=None, error_for_status=None, ramp_window=1.0,  # type: ignore[arg-type]
    )  # fmt: skip
    try:
        run._queue.clear()
        first = segmented._Piece(0, 50 * MIB, 10 * MIB)
        newest = segmented._Piece(50 * MIB, 100 * MIB, 60 * MIB)
        run._running[:] = [first, newest]
        run._let_go()
        assert (newest.end, run._retire) == (60 * MIB, 1)  # it stops at the byte it reads now
        queued = [(p.start, p.end) for p in run._queue]
        assert queued == [(60 * MIB, 92 * MIB), (92 * MIB, 100 * MIB)]
        assert first.end == 50 * MIB
    finally:
        run._writers.shutdown()
        run.hash.close()


def test_ramp_adds_connections_while_they_pay_and_lets_the_last_go() -> None:
    at_once = Ramp(4, 0.0, now=0.0, done=0)
    assert at_once.workers == 4 and at_once.settled and at_once.step(5.0, 10) == 0
    ramp = Ramp(4, 1.0, now=0.0, done=0)
    assert ramp.workers == 1
    assert ramp.step(0.5, 50) == 0  # the window is not over
    assert ramp.step(1.0, 100) == 1 and ramp.workers == 2  # 100/s with one
    assert ramp.step(2.0, 300) == 1 and ramp.workers == 3  # 200/s with two: >= 1.5x
    assert ramp.step(3.0, 520) == -1 and ramp.workers == 2  # 220/s with three: < 1.25x
    assert ramp.settled and ramp.step(9.0, 2000) == 0
    full = Ramp(2, 1.0, now=0.0, done=0)
    assert full.step(1.0, 100) == 1 and full.workers == 2 and full.settled
    fast = Ramp(4, 1.0, now=0.0, done=0)  # one connection already fills a fast link
    assert fast.step(1.0, Ramp.FAST) == 0 and fast.settled and fast.workers == 1
    flat = Ramp(4, 1.0, now=0.0, done=0)  # the second connection brings nothing
    assert flat.step(1.0, 800) == 1 and flat.step(2.0, 1500) == -1 and flat.workers == 1


async def test_without_range_support_one_stream(server: DownloadServer, root: Path) -> None:
    url = server.add("/m.bin", DATA, ignore_range=True)
    await run(engine(url, root))
    assert (root / "vae" / "m.bin").read_bytes() == DATA
    assert ranges_asked(server, "/m.bin") == [None]


async def test_small_files_and_one_connection_stay_single(
    server: DownloadServer, root: Path
) -> None:
    await run(engine(server.add("/a.bin", DATA), root, segment_min=64 * MIB))
    await run(engine(server.add("/b.bin", DATA), root, connections=1))
    assert ranges_asked(server, "/a.bin") == [None] and ranges_asked(server, "/b.bin") == [None]


async def test_a_per_connection_rate_cap_is_beaten_by_parallel_connections(
    server: DownloadServer, root: Path
) -> None:
    url = server.add("/m.bin", DATA, rate=16 * MIB)
    progress: list[int] = []
    download = engine(url, root)
    async for event in download.run():
        if isinstance(event, Progress) and event.bytes_done is not None:
            progress.append(event.bytes_done)
    assert (root / "vae" / "m.bin").read_bytes() == DATA
    assert server.most_active >= 3  # the ranges really ran at the same time
    assert progress == sorted(progress) and progress[-1] == len(DATA)


async def test_dropped_connections_resume_inside_their_range(
    server: DownloadServer, root: Path
) -> None:
    url = server.add("/m.bin", DATA, drop_after=[10**9, 1_000_000, 3_000_000, 10**9])
    download = engine(url, root, retry=RetryPolicy(max_retries=3))
    await run(download)
    assert (root / "vae" / "m.bin").read_bytes() == DATA
    assert download.meta is not None and download.meta.sha256 == hashlib.sha256(DATA).hexdigest()
    starts = [int(r.split("=")[1].split("-")[0]) for r in ranges_asked(server, "/m.bin")[1:] if r]
    assert any(start % PIECE for start in starts)  # a cut range went on where it stopped


async def test_a_cut_first_answer_goes_on_with_a_range_where_it_stopped(
    server: DownloadServer, root: Path
) -> None:
    """Ramping, the first answer (no Range) is the first connection's stream: cut after
    5 MB, the same connection asks for the rest from the byte after the last one written."""
    url = server.add("/m.bin", DATA, drop_after=[5_000_000])
    frozen = 0.0  # the ramp never adds a connection: one connection, cut once
    download = engine(
        url, root, ramp_window=1.0, clock=lambda: frozen, retry=RetryPolicy(max_retries=3)
    )
    await run(download)
    assert (root / "vae" / "m.bin").read_bytes() == DATA
    assert download.meta is not None and download.meta.sha256 == hashlib.sha256(DATA).hexdigest()
    asked = ranges_asked(server, "/m.bin")
    assert asked[0] is None
    assert asked[1] is not None and asked[1].startswith("bytes=5000000-")


async def test_a_file_changing_between_ranges_starts_over(
    server: DownloadServer, root: Path
) -> None:
    new = pickle_payload(len(DATA))
    route_url = server.add("/m.bin", DATA, etags=['"v1"', '"v1"', '"v2"'])
    server.routes["/m.bin"].versions = [DATA, DATA, new]
    await run(engine(route_url, root, connections=2))
    assert (root / "vae" / "m.bin").read_bytes() == new


async def test_cancel_records_the_ranges_and_a_resume_asks_only_for_the_gaps(
    server: DownloadServer, root: Path
) -> None:
    url = server.add("/m.bin", DATA, rate=8 * MIB)
    first = engine(url, root)
    events = first.run()
    async for event in events:
        if isinstance(event, Progress) and (event.bytes_done or 0) >= 6 * MIB:
            break
    await events.aclose()
    side = json.loads(sidecar_path(root / "vae" / "m.bin").read_text())
    kept = Done.from_doc(side["segments"], len(DATA))
    assert kept is not None and kept.total >= 6 * MIB
    assert (root / "vae" / "m.bin.part").stat().st_size == len(DATA)  # sparse, full length

    server.routes["/m.bin"].rate = None
    before = len(server.seen("/m.bin"))
    second = engine(url, root)
    await run(second)
    assert (root / "vae" / "m.bin").read_bytes() == DATA
    assert second.meta is not None and second.meta.sha256 == hashlib.sha256(DATA).hexdigest()
    asked = ranges_asked(server, "/m.bin")[before:]
    # the first answer names the file; then: is it still the same file?
    assert asked[:2] == [None, "bytes=0-0"]
    fetched = Done()
    for value in asked[2:]:
        assert value is not None
        a, b = value.split("=")[1].split("-")
        fetched.add(int(a), int(b) + 1)
        assert all(not (s <= int(a) and int(b) < e) for s, e in kept.spans())
    assert fetched.total + kept.total >= len(DATA)


KILLED = """
import asyncio, sys
from pathlib import Path
from comfy_tui.services.downloads import DownloadSpec, HttpDownload, Kind
url, root, ramp = sys.argv[1], Path(sys.argv[2]), float(sys.argv[3])
spec = DownloadSpec(kind=Kind.URL, key="url:" + url, url=url, folder="vae", allow_local=True)
async def main():
    async for event in HttpDownload(spec, root, connections=4, segment_min=1,
                                   ramp_window=ramp).run():
        print(getattr(event, "bytes_done", None), flush=True)
asyncio.run(main())
"""


def recorded(target: Path) -> int:
    """Bytes the sidecar of `target` records as written (0 while it has none)."""
    try:
        side = json.loads(sidecar_path(target).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return 0
    done = Done.from_doc(side.get("segments"), len(DATA))
    return done.total if done is not None else 0


@pytest.mark.parametrize("ramp", [0.0, 1.0], ids=["all-at-once", "ramping"])
def test_kill_9_in_a_segment_then_resume(root: Path, ramp: float) -> None:
    """Ramping (the default), the first connection is the first answer itself."""
    with ThreadedServer(DownloadServer()) as server:
        url = server.add("/m.bin", DATA, rate=2 * MIB)  # about 3 s: saved at 1 s
        with subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(KILLED), url, str(root), str(ramp)],
            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parents[2],
        ) as proc:  # fmt: skip
            assert proc.stdout is not None
            for _line in proc.stdout:  # killed once the sidecar records written ranges
                if recorded(root / "vae" / "m.bin") > 0:
                    break
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=30)
        side = json.loads(sidecar_path(root / "vae" / "m.bin").read_text())
        kept = Done.from_doc(side["segments"], len(DATA))
        assert kept is not None and 0 < kept.total < len(DATA)

        server.routes["/m.bin"].rate = None
        resumed = engine(url, root)
        asyncio.run(run(resumed))
    assert (root / "vae" / "m.bin").read_bytes() == DATA
    assert resumed.meta is not None and resumed.meta.sha256 == hashlib.sha256(DATA).hexdigest()
    assert resumed.resumed_from == kept.total

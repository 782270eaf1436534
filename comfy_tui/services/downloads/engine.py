"""The HTTP download engine: one file, streamed to a locked `.part`, resumed, verified, renamed.

`HttpDownload(spec, library_root).run()` is an async iterator of events (`Progress`, `LogLine`,
`Finished`); a failure raises `ComfyTuiError`. What happens to the partial file:

- cancelled (pause, Ctrl-C, quit): kept, with its sidecar, for the next run to resume;
- a network failure after the retries, or the disk filling up: kept (`DownloadError.resumable`);
- sha256 mismatch, HTTP 4xx, a bad redirect: deleted, so nothing half-written stays behind.

Resume: the sidecar holds the server's validator; the next request sends ``Range`` and
``If-Range``. A 206 from the right offset with the same validator appends; a 200 (the server
ignored the range, or the file changed) or a changed validator starts over from zero. The
existing part is re-hashed first (in a worker thread) so the sha256 covers every byte.

The event loop only moves buffers: writing and hashing happen in `pipeline.PartThreads`.

`hub_fast` (a Hub download, when huggingface_hub's fast path is installed): a test of the Hub's
answer headers; when it says yes, `HubFastPath` is raised before a byte is written.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from contextlib import aclosing
from pathlib import Path
from typing import Any

import aiohttp

from comfy_tui import __version__
from comfy_tui.core.units import format_bytes, format_duration
from comfy_tui.core.url_secrets import redact_url
from comfy_tui.errors import ComfyTuiError, LockBusyError
from comfy_tui.events import Event, Finished, LogLine, Progress, Step, forwards
from comfy_tui.services.downloads.data import (
    AlreadyExistsError,
    DownloadError,
    DownloadMeta,
    DownloadSpec,
    HubFastPath,
    Kind,
    OnComplete,
)
from comfy_tui.services.downloads.finish import (
    DiskUsage,
    check_disk,
    progress,
    verify_and_commit,
    write_error,
)
from comfy_tui.services.downloads.hf import hub_headers
from comfy_tui.services.downloads.meter import SpeedMeter
from comfy_tui.services.downloads.names import (
    filename_from_disposition,
    filename_from_url,
    free_name,
)
from comfy_tui.services.downloads.partfile import PartFile
from comfy_tui.services.downloads.pipeline import ChunkSink, PartThreads
from comfy_tui.services.downloads.protocol import (
    NETWORK_ERRORS,
    Again,
    Retry,
    Validator,
    host_of,
    leftover,
    open_following,
    parse_content_range,
    status_error,
    unsatisfied_total,
)
from comfy_tui.services.downloads.ranges import Done, piece_size
from comfy_tui.services.downloads.retry import RetryPolicy, parse_retry_after
from comfy_tui.services.downloads.segmented import RangesLost, Segmented, Target
from comfy_tui.services.downloads.sniff import (
    WEB_PAGE,
    is_model_name,
    is_web_content_type,
)
from comfy_tui.services.downloads.urls import same_origin
from comfy_tui.services.net import Network
from comfy_tui.validate import ensure_inside, safe_relpath, validate_filename

log = logging.getLogger(__name__)

PROGRESS_INTERVAL = 0.25
SEGMENT_MIN = 64 * 1024 * 1024
"""Files smaller than this come in one stream."""
PIECE_MIN = 8 * 1024 * 1024
PIECE_MAX = 64 * 1024 * 1024
RAMP_WINDOW = 1.0
"""Seconds each added connection is measured before another one is tried (`ranges.Ramp`)."""
BASE_HEADERS = {"Accept-Encoding": "identity", "User-Agent": f"comfy-tui/{__version__}"}
READ_BUFFER = 1024 * 1024
"""What aiohttp buffers per connection before it stops reading the socket."""
MAX_RESTARTS = 5
"""Requests asked again at once (to resume, or to start over) before giving up."""

ErrorHook = Callable[[int, Mapping[str, str]], ComfyTuiError | None]


class HttpDownload:
    """One download. Read `filename`, `bytes_done`, `bytes_total`, `speed`, `eta` while it runs;
    `meta` and `target` once it finished."""

    def __init__(
        self,
        spec: DownloadSpec,
        library_root: Path,
        *,
        on_complete: OnComplete | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        retry: RetryPolicy | None = None,
        disk_usage: DiskUsage = shutil.disk_usage,
        part_factory: Callable[[Path], PartFile] = PartFile,
        error_for_status: ErrorHook | None = None,
        connect_timeout: float = 30.0,
        read_timeout: float = 60.0,
        network: Network | None = None,
        connections: int = 1,
        segment_min: int = SEGMENT_MIN,
        ramp_window: float = RAMP_WINDOW,
        hub_fast: Callable[[Mapping[str, str]], bool] | None = None,
    ) -> None:
        self.spec = spec
        self.library_root = library_root
        self.on_complete = on_complete
        self._sleep = sleep
        self._clock = clock
        self._retry = retry or RetryPolicy()
        self._disk_usage = disk_usage
        self._part_factory = part_factory
        self._error_for_status = error_for_status
        self._network = network or Network.from_env()
        self._connections = connections
        self._segment_min = segment_min
        self._ramp_window = ramp_window
        self._hub_fast = hub_fast
        self._done: Done | None = None
        self._timeout = aiohttp.ClientTimeout(
            total=None,
            connect=connect_timeout,
            sock_connect=connect_timeout,
            sock_read=read_timeout,
        )
        self.filename: str | None = spec.filename
        self.expected_sha256: str | None = spec.expected_sha256
        self.bytes_done = 0
        self.bytes_total: int | None = None
        self.resumed_from = 0
        self.commit: str | None = None
        self.final_url = spec.url
        self.target: Path | None = None
        self.meta: DownloadMeta | None = None
        self.meter = SpeedMeter(clock)
        self.part: PartFile | None = None
        self._validator: Validator | None = None
        self._threads: PartThreads | None = None
        self._session: aiohttp.ClientSession | None = None

    # --- read-only views --------------------------------------------------------------------
    @property
    def speed(self) -> float | None:
        return self.meter.speed

    @property
    def eta(self) -> float | None:
        return self.meter.eta(self.bytes_done, self.bytes_total)

    # --- the job ----------------------------------------------------------------------------
    @forwards
    async def run(self) -> AsyncGenerator[Step, None]:
        self._threads = PartThreads()
        try:
            self._session = self._network.session(
                timeout=self._timeout, auto_decompress=False, read_bufsize=READ_BUFFER
            )
            if self.filename is not None:
                await self._claim(self.filename)
                yield self._prepare_resume()
            yield self._transfer()
            yield self._finish()
        except BaseException as exc:
            await self._after_failure(exc)
            raise
        finally:
            await self._shutdown()

    @forwards
    async def _transfer(self) -> AsyncGenerator[Step, None]:
        failures = again = 0
        while True:
            before = self.part.size if self.part else 0
            try:
                yield self._attempt()
                return
            except Again:
                again += 1
                if again > MAX_RESTARTS:
                    raise DownloadError(
                        f"{host_of(self.final_url)} keeps answering with another version or range"
                        " of the file; try again later"
                    ) from None
                continue
            except Retry as retry:
                progressed = self.part is not None and self.part.size > before
                failures = 1 if progressed else failures + 1
                keep = self.part is not None and self.part.size > 0
                note = "; the partial file is kept: run it again to resume" if keep else ""
                if failures > self._retry.max_retries:
                    raise DownloadError(
                        f"{retry.reason}; gave up after {failures} tries{note}", resumable=keep
                    ) from None
                delay = retry.retry_after
                if delay is None:
                    delay = self._retry.delay(failures)
                elif delay > self._retry.max_retry_after:
                    raise DownloadError(
                        f"{retry.reason}: the server asks to wait {format_duration(delay)}{note}",
                        resumable=keep,
                    ) from None
                log.info(
                    "download %s: %s; retry %d in %.1f s", self.spec.key, retry, failures, delay
                )
                yield LogLine(f"{retry.reason}; retrying in {format_duration(delay)}", "download")
                await self._sleep(delay)

    # --- preparing the part -----------------------------------------------------------------
    def _dest_dir(self) -> Path:
        directory = safe_relpath(self.library_root, self.spec.folder)
        directory.mkdir(parents=True, exist_ok=True)
        return ensure_inside(self.library_root, directory)

    async def _claim(self, name: str, *, rename_on_clash: bool = False) -> None:
        """Decide the target, refuse an existing file (or, for a name the server chose, take
        the first free ``name-N.ext``), open and lock the part."""
        name = validate_filename(name)
        directory = self._dest_dir()
        if rename_on_clash:
            name = free_name(directory, name)
        target = ensure_inside(self.library_root, directory / name)
        if target.exists() or target.is_symlink():
            raise AlreadyExistsError(
                f"{self.spec.folder}/{name} is already in the library; remove it first"
            )
        part = self._part_factory(target)
        self.part = part  # before the await: a cancel still closes what the thread opens
        try:
            await self._in_thread(part.open)
        except LockBusyError:
            self.part = None
            raise
        self.filename, self.target = name, target

    async def _prepare_resume(self) -> AsyncGenerator[Event, None]:
        """Keep a part that belongs to this download (re-hashing it), or empty it."""
        part = self._need_part()
        if part.size == 0:
            return
        side = await self._in_thread(part.read_sidecar)
        validator = Validator.from_doc(side) if side else None
        total = side.get("total") if side else None
        total = total if isinstance(total, int) else None
        usable = (
            side is not None
            and side.get("source") == self.spec.key
            and validator is not None
            and validator.if_range() is not None
            and (total is None or part.size <= total)
        )
        done = Done.from_doc(side.get("segments"), total) if side and total else None
        if side is not None and "segments" in side and (done is None or part.size != total):
            usable = False  # a segmented part must have its full (sparse) length
        if not usable:
            log.info("download %s: dropping a part it cannot resume", self.spec.key)
            await self._in_thread(part.reset)
            return
        self._validator, self.bytes_total = validator, total
        if done is not None:  # segmented: the gaps are fetched, the sha256 re-reads as it goes
            self._done = done
            self.resumed_from = self.bytes_done = done.total
            yield LogLine(f"resuming {self.filename} at {format_bytes(done.total)}", "download")
            return
        yield LogLine(f"resuming {self.filename} at {format_bytes(part.size)}", "download")
        hashed = 0
        while hashed < part.size:
            hashed = await self._in_thread(part.rehash_step, hashed)
            fraction = hashed / part.size if part.size else 1.0
            yield Progress(f"verify {self.filename}", min(1.0, fraction), hashed, part.size)
        self.resumed_from = self.bytes_done = part.size

    # --- one request ------------------------------------------------------------------------
    @forwards
    async def _attempt(self) -> AsyncGenerator[Step, None]:
        if self._done is not None:
            yield self._resume_segments()
            return
        offset = self.part.size if self.part else 0
        headers = dict(BASE_HEADERS)
        validator = self._validator
        if offset > 0 and validator is not None and validator.if_range():
            headers["Range"] = f"bytes={offset}-"
            headers["If-Range"] = validator.if_range() or ""
        response = await self._request(headers)
        async with response:
            status = response.status
            if status == 429 or status >= 500:
                wait = parse_retry_after(response.headers.get("Retry-After"))
                raise Retry(f"HTTP {status} from {host_of(self.final_url)}", wait)
            if status == 416 and offset > 0:
                if unsatisfied_total(response.headers.get("Content-Range")) == offset:
                    self.bytes_total = offset
                    return  # the part already holds the whole file
                await self._restart("the server refused the range")
            if status not in (200, 206):
                raise self._status_error(status, response.headers)
            fresh = Validator.from_headers(response.headers)
            if self.part is None:
                yield self._claim_from_response(response, fresh)
                offset = self.part.size if self.part else 0
            name = self.filename or ""
            if is_web_content_type(response.headers.get("Content-Type")) and is_model_name(name):
                raise DownloadError(WEB_PAGE.format(name=name))
            total: int | None
            if status == 206:
                span = parse_content_range(response.headers.get("Content-Range"))
                if span is None or span[0] != offset:
                    if offset == 0:
                        raise DownloadError(
                            f"{host_of(self.final_url)} sent part of the file unasked"
                            f" (Content-Range {response.headers.get('Content-Range')!r})"
                        )
                    await self._restart("the server answered another range")
                if offset > 0 and validator is not None and not validator.same(fresh):
                    await self._restart("the file changed on the server")
                total = span[2] if span else None
            else:
                if offset > 0:
                    yield LogLine(
                        "the server sent the whole file (it ignored the range or the file"
                        " changed); starting over",
                        "download",
                    )
                    await self._in_thread(self._need_part().reset)
                    offset = self.resumed_from = 0
                total = response.content_length
            self.bytes_total = total
            self._check_disk(total, offset)
            if offset == 0:
                self._validator = fresh
                await self._in_thread(self._need_part().write_sidecar, self._sidecar_doc(fresh))
            if offset == 0 and total is not None and self._can_segment(response, total, fresh):
                # Ramping up, the first connection reads on from this answer; else each range
                # gets its own request.
                first = response if self._ramp_window > 0 else None
                if first is None:
                    response.close()
                yield self._segments_run(Done(), fresh, total, first)
                return
            yield self._stream(response)
        if self.bytes_total is not None and self._need_part().size != self.bytes_total:
            raise Retry("the connection closed before the end of the file")

    # --- several connections ------------------------------------------------------------------
    def _can_segment(self, response: aiohttp.ClientResponse, total: int, fresh: Validator) -> bool:
        return (
            self._connections > 1
            and total >= self._segment_min
            and response.headers.get("Accept-Ranges", "").strip().lower() == "bytes"
            and fresh.if_range() is not None
        )

    @forwards
    async def _resume_segments(self) -> AsyncGenerator[Step, None]:
        """Check with a one-byte range that the server still has this very file, then fetch
        the gaps; anything else starts over."""
        validator, total, done = self._validator, self.bytes_total, self._done
        assert done is not None and validator is not None and total is not None
        headers = {**BASE_HEADERS, "Range": "bytes=0-0", "If-Range": validator.if_range() or ""}
        response = await self._request(headers)
        async with response:
            status = response.status
            if status == 429 or status >= 500:
                wait = parse_retry_after(response.headers.get("Retry-After"))
                raise Retry(f"HTTP {status} from {host_of(self.final_url)}", wait)
            if status not in (200, 206, 416):
                raise self._status_error(status, response.headers)
            span = parse_content_range(response.headers.get("Content-Range"))
            fresh = Validator.from_headers(response.headers)
            if status != 206 or span is None or span[2] != total or not validator.same(fresh):
                self._done = None
                await self._restart("the server no longer serves this file in ranges")
        self._check_disk(total, done.total)
        yield self._segments_run(done, validator, total)

    async def _segments_run(
        self,
        done: Done,
        validator: Validator,
        total: int,
        first: aiohttp.ClientResponse | None = None,
    ) -> AsyncGenerator[Event, None]:
        part = self._need_part()
        assert self._session is not None
        await self._in_thread(part.allocate, total)
        await self._in_thread(part.use_direct)  # segments skip the page cache (`direct_io`)
        self._done = done
        await self._save_segments(done)
        same = same_origin(self.final_url, self.spec.url)
        target = Target(
            url=self.final_url,
            headers=BASE_HEADERS,
            validator=validator,
            total=total,
            token=self.spec.token if same else None,
            allow_local=self.spec.allow_local,
        )
        run = Segmented(
            session=self._session,
            network=self._network,
            part=part,
            target=target,
            done=done,
            connections=self._connections,
            piece=piece_size(total, self._connections, smallest=PIECE_MIN, largest=PIECE_MAX),
            retry=self._retry,
            sleep=self._sleep,
            save=self._save_segments,
            error_for_status=self._status_error,
            clock=self._clock,
            ramp_window=self._ramp_window,
            first=first,
        )
        self.meter.mark(done.total)
        try:
            async with aclosing(run.run(PROGRESS_INTERVAL)) as ticks:
                async for written in ticks:
                    yield self._progress(written)
        except RangesLost as lost:
            self._done = None
            await self._restart(str(lost))
        except OSError as exc:
            raise self._write_error(exc) from None
        yield self._progress(total)

    async def _save_segments(self, done: Done) -> None:
        assert self._validator is not None
        doc = {**self._sidecar_doc(self._validator), "segments": done.to_doc()}
        await self._in_thread(self._need_part().write_sidecar, doc)

    @forwards
    async def _claim_from_response(
        self, response: aiohttp.ClientResponse, fresh: Validator
    ) -> AsyncGenerator[Step, None]:
        """The first answer named the file: claim it; resume a matching part by asking again."""
        offered = filename_from_disposition(response.headers.get("Content-Disposition"))
        name = offered or filename_from_url(self.final_url) or filename_from_url(self.spec.url)
        if name is None:
            raise DownloadError(f"cannot tell the file name of {redact_url(self.spec.url)}")
        await self._claim(name, rename_on_clash=offered is not None)
        part = self._need_part()
        if part.size == 0:
            return
        side = await self._in_thread(part.read_sidecar)
        if side is not None and Validator.from_doc(side).same(fresh):
            yield self._prepare_resume()
            if part.size > 0:
                raise Again
        await self._in_thread(part.reset)

    async def _restart(self, why: str) -> None:
        log.info("download %s: %s; starting over", self.spec.key, why)
        await self._in_thread(self._need_part().reset)
        self._validator = None
        self.resumed_from = 0
        raise Again

    async def _request(self, headers: Mapping[str, str]) -> aiohttp.ClientResponse:
        assert self._session is not None
        on_response = self._read_hub_headers if self.spec.kind is Kind.HF else None
        response, self.final_url = await open_following(
            self._session,
            self.spec.url,
            headers,
            token=self.spec.token,
            allow_local=self.spec.allow_local,
            on_response=on_response,
            network=self._network,
        )
        return response

    def _read_hub_headers(self, headers: Mapping[str, str]) -> None:
        if self._hub_fast is not None and self._hub_fast(headers):
            raise HubFastPath  # huggingface_hub fetches this one; nothing was written
        commit, sha256 = hub_headers(headers)
        if commit is not None:
            self.commit = commit
        if sha256 is not None and self.spec.expected_sha256 is None:
            self.expected_sha256 = sha256

    def _status_error(self, status: int, headers: Mapping[str, str]) -> ComfyTuiError:
        if self._error_for_status is not None:
            specific = self._error_for_status(status, headers)
            if specific is not None:
                return specific
        return status_error(status, self.final_url)

    def _check_disk(self, total: int | None, offset: int) -> None:
        part = self._need_part()
        check_disk(part.path.parent, part.target.name, total, offset, self._disk_usage)

    def _sidecar_doc(self, validator: Validator) -> dict[str, Any]:
        return {
            "source": self.spec.key,
            "url": redact_url(self.spec.url),
            "etag": validator.etag,
            "last_modified": validator.last_modified,
            "total": self.bytes_total,
        }

    # --- the body ---------------------------------------------------------------------------
    async def _stream(self, response: aiohttp.ClientResponse) -> AsyncGenerator[Event, None]:
        part = self._need_part()
        assert self._threads is not None
        await self._in_thread(part.use_direct)  # past the page cache (`direct_io`)
        sink = ChunkSink(self._threads, part, self._clock)
        received = part.size
        self.meter.mark(received)
        last = self._clock()
        try:
            async for chunk in response.content.iter_any():
                received += len(chunk)
                await sink.add(chunk)
                now = self._clock()
                if now - last >= PROGRESS_INTERVAL:
                    last = now
                    yield self._progress(received)
            await sink.finish()
            yield self._progress(received)
        except NETWORK_ERRORS as exc:
            try:
                rest = leftover(response.content)
                if rest:
                    received += len(rest)
                    await sink.add(rest)
                await sink.finish()  # keep every byte that arrived
            except OSError as write_failed:
                raise self._write_error(write_failed) from None
            raise Retry(f"connection lost ({type(exc).__name__})") from None
        except (asyncio.CancelledError, GeneratorExit):
            sink.abandon()
            raise
        except OSError as exc:
            raise self._write_error(exc) from None

    def _write_error(self, exc: OSError) -> DownloadError:
        return write_error(exc, self.filename, self.part.size if self.part else 0)

    def _progress(self, done: int) -> Progress:
        self.bytes_done = done
        self.meter.update(done)
        return progress(self.filename, done, self.bytes_total, self.meter.speed, self.eta)

    # --- the end ----------------------------------------------------------------------------
    async def _finish(self) -> AsyncGenerator[Event, None]:
        part = self._need_part()
        assert self._threads is not None
        self.meta = await verify_and_commit(
            self._threads,
            part,
            self.spec,
            expected=self.expected_sha256,
            commit=self.commit,
            etag=self._validator.etag if self._validator else None,
        )
        target = part.target
        log.info("downloaded %s (%d bytes, sha256 %s)", target, part.size, self.meta.sha256)
        self.bytes_done = part.size
        yield Progress(f"download {target.name}", 1.0, part.size, part.size, "done")
        if self.on_complete is not None:
            await self.on_complete(target, self.meta)
        yield Finished(str(target))

    async def _after_failure(self, exc: BaseException) -> None:
        part = self.part
        if part is None or part.fd < 0:
            return
        keep = isinstance(exc, asyncio.CancelledError | KeyboardInterrupt | GeneratorExit) or (
            isinstance(exc, DownloadError) and exc.resumable
        )
        if not keep and isinstance(exc, ComfyTuiError):
            await self._in_thread_quietly(part.discard)
        elif part.size == 0:
            await self._in_thread_quietly(part.discard_if_unused)

    async def _shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._threads is not None:
            await self._threads.close(self.part)
            self._threads = None

    # --- helpers ----------------------------------------------------------------------------
    def _need_part(self) -> PartFile:
        assert self.part is not None, "the part is claimed before any byte is written"
        return self.part

    async def _in_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        assert self._threads is not None
        return await self._threads.call(fn, *args)

    async def _in_thread_quietly(self, fn: Callable[[], None]) -> None:
        try:
            await self._in_thread(fn)
        except (OSError, asyncio.CancelledError):
            log.warning("cleaning up %s failed", self.filename, exc_info=True)

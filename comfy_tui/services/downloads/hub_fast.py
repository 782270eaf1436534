"""Hugging Face files through huggingface_hub's own fast path, where it is installed.

`fast_path()` says which: ``"hf_xet"`` when the `hf_xet` package is importable (and
``HF_HUB_DISABLE_XET`` is not set), ``"hf_transfer"`` when `hf_transfer` is and the installed
huggingface_hub still uses it (before 1.0), else None (our own engine, as for any URL).

`HubFirst` is the engine of a Hub download then. With hf_xet it starts our HTTP engine, which
looks at the Hub's first answer: a file served through Xet (``X-Xet-Hash``) goes to
`HubDownload` before a byte is written, any other file stays with our engine. With hf_transfer
every Hub file goes to `HubDownload`.

`HubDownload` runs ``hf_hub_download`` (endpoint from settings; the token only when the
download was handed one) in a child process (`hub_child`), into a hidden staging folder beside
the target (``.<name>.hub``: the library skips dot names), holding the target's `.part` lock
meanwhile so no other download writes there. Progress comes from the size of the files in the
staging folder. Then the file is hashed (sha256, checked against the one asked for or the one
the Hub states), fsynced and renamed onto the target, as our engine does with its `.part`.
Pause kills the child and keeps the staging folder: huggingface_hub resumes it next time. A
refusal (gated, not found) or a wrong sha256 deletes it. When huggingface_hub fails for a
reason of its own (hf_xet cannot reach its storage, say: `HubPathFailed`), `HubFirst` fetches
the file with our engine after all.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
import sys
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from contextlib import aclosing
from pathlib import Path
from typing import Any

from comfy_tui.core.url_secrets import redact_url
from comfy_tui.errors import ComfyTuiError
from comfy_tui.events import Event, Finished, LogLine, Progress
from comfy_tui.services.childenv import child_environ
from comfy_tui.services.downloads.data import (
    AlreadyExistsError,
    ChecksumError,
    DownloadError,
    DownloadMeta,
    DownloadSpec,
    HubFastPath,
    OnComplete,
)
from comfy_tui.services.downloads.engine import PROGRESS_INTERVAL, HttpDownload
from comfy_tui.services.downloads.finish import progress
from comfy_tui.services.downloads.hf import HubFile, gated_message, hub_error
from comfy_tui.services.downloads.meter import SpeedMeter
from comfy_tui.services.downloads.partfile import PartFile, _fsync_dir
from comfy_tui.services.downloads.sniff import check_fd
from comfy_tui.settings import Settings
from comfy_tui.validate import ensure_inside, safe_relpath, validate_filename

log = logging.getLogger(__name__)

_READ_STEP = 8 * 1024 * 1024
_TRUE = {"1", "true", "yes", "on"}
_HUB_CODES = {
    "repo": (401, "RepoNotFound"),
    "revision": (404, "RevisionNotFound"),
    "entry": (404, "EntryNotFound"),
}
"""The child's error codes as the Hub's answers (`hf.hub_error` words them)."""


def fast_path(environ: Mapping[str, str] | None = None) -> str | None:
    """``"hf_xet"``, ``"hf_transfer"`` or None: which fast path of huggingface_hub is there."""
    env = os.environ if environ is None else environ
    xet_off = env.get("HF_HUB_DISABLE_XET", "").strip().lower() in _TRUE
    if not xet_off and importlib.util.find_spec("hf_xet") is not None:
        return "hf_xet"
    if importlib.util.find_spec("hf_transfer") is not None and _hub_major() < 1:
        return "hf_transfer"
    return None


def _hub_major() -> int:
    try:
        return int(importlib.metadata.version("huggingface_hub").split(".")[0])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return 0


def is_xet(headers: Mapping[str, str]) -> bool:
    """The Hub's answer for a file served through Xet (it names the file's Xet hash)."""
    return bool(headers.get("X-Xet-Hash"))


class HubPathFailed(DownloadError):
    """huggingface_hub failed for a reason of its own (not the Hub's refusal, not the network
    or the disk): `HubFirst` fetches the file with our engine instead."""


class HubDownload:
    """One Hub file fetched by huggingface_hub; read like `HttpDownload` while it runs."""

    def __init__(
        self,
        spec: DownloadSpec,
        settings: Settings,
        library_root: Path,
        *,
        mode: str,
        on_complete: OnComplete | None = None,
        clock: Callable[[], float] = time.monotonic,
        command: list[str] | None = None,
    ) -> None:
        assert spec.repo_id and spec.revision and spec.path_in_repo and spec.filename
        self.spec = spec
        self.settings = settings
        self.library_root = library_root
        self.mode = mode
        self.on_complete = on_complete
        self._clock = clock
        self._command = command or [sys.executable, "-m", "comfy_tui.services.downloads.hub_child"]
        self.filename: str | None = spec.filename
        self.bytes_done = 0
        self.bytes_total: int | None = None
        self.resumed_from = 0
        self.commit: str | None = None
        self.target: Path | None = None
        self.meta: DownloadMeta | None = None
        self.meter = SpeedMeter(clock)
        self._expected = spec.expected_sha256
        self._staged: Path | None = None

    @property
    def speed(self) -> float | None:
        return self.meter.speed

    @property
    def eta(self) -> float | None:
        return self.meter.eta(self.bytes_done, self.bytes_total)

    async def run(self) -> AsyncGenerator[Event, None]:
        name = validate_filename(self.spec.filename or "")
        directory = safe_relpath(self.library_root, self.spec.folder)
        await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)
        target = ensure_inside(self.library_root, directory / name)
        if target.exists() or target.is_symlink():
            raise AlreadyExistsError(
                f"{self.spec.folder}/{name} is already in the library; remove it first"
            )
        part = PartFile(target)
        await asyncio.to_thread(part.open)  # the lock: nobody else downloads this target
        stage = target.with_name(f".{name}.hub")
        keep_stage = True
        try:
            self.target = target
            yield LogLine(f"fetching {name} through huggingface_hub ({self.mode})", "download")
            async with aclosing(self._fetch(stage)) as fetching:  # closed: the child is killed
                async for event in fetching:
                    yield event
            keep_stage = False
            async with aclosing(self._commit(stage, part)) as committing:
                async for event in committing:
                    yield event
        except HubPathFailed:
            keep_stage = False  # our engine fetches it instead
            raise
        except DownloadError as exc:
            keep_stage = exc.resumable
            raise
        except ComfyTuiError:
            keep_stage = False
            raise
        finally:
            if not keep_stage:
                await asyncio.to_thread(shutil.rmtree, stage, True)
            await asyncio.to_thread(part.discard if not keep_stage else part.close)
        if self.on_complete is not None:
            assert self.meta is not None
            await self.on_complete(target, self.meta)
        yield Finished(str(target))

    # --- the child ------------------------------------------------------------------------
    async def _fetch(self, stage: Path) -> AsyncGenerator[Event, None]:
        spec = self.spec
        request = {
            "repo_id": spec.repo_id,
            "path": spec.path_in_repo,
            "revision": spec.revision,
            "endpoint": self.settings.hf_endpoint,
            "token": spec.token,  # only what this download was handed (settings' hf_token)
            "local_dir": str(stage),
            "mode": self.mode,
        }
        proc = await asyncio.create_subprocess_exec(
            *self._command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=child_environ(),
        )
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        errors = asyncio.create_task(proc.stderr.read())
        result: dict[str, Any] = {}
        try:
            proc.stdin.write((json.dumps(request) + "\n").encode())
            await proc.stdin.drain()
            proc.stdin.close()
            self.meter.mark(0)
            line = asyncio.create_task(proc.stdout.readline())
            while True:
                done, _ = await asyncio.wait({line}, timeout=PROGRESS_INTERVAL)
                if not done:
                    yield self._progress(await asyncio.to_thread(_staged_bytes, stage))
                    continue
                raw = line.result()
                if not raw:
                    break
                doc = _parse(raw)
                if "size" in doc:
                    self._metadata(doc)
                elif "path" in doc or "error" in doc:
                    result = doc
                line = asyncio.create_task(proc.stdout.readline())
            await proc.wait()
        except BaseException:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
            raise
        finally:
            stderr = (await errors).decode(errors="replace").strip()
        if "path" in result:
            self._staged = Path(result["path"])
            return
        if "error" in result:
            raise self._child_error(result)
        last = stderr.splitlines()[-1] if stderr else f"exit status {proc.returncode}"
        raise DownloadError(f"huggingface_hub failed: {last}", resumable=True)

    def _metadata(self, doc: dict[str, Any]) -> None:
        size, commit, sha = doc.get("size"), doc.get("commit"), doc.get("sha256")
        self.bytes_total = size if isinstance(size, int) else None
        self.commit = commit if isinstance(commit, str) else None
        if self._expected is None and isinstance(sha, str):
            self._expected = sha

    def _child_error(self, doc: dict[str, Any]) -> DownloadError:
        spec = self.spec
        assert spec.repo_id and spec.revision and spec.path_in_repo
        file = HubFile(spec.repo_id, spec.revision, spec.path_in_repo)
        code = str(doc.get("error"))
        if code == "gated":
            return DownloadError(gated_message(self.settings, spec.repo_id))
        if code in _HUB_CODES:
            status, header = _HUB_CODES[code]
            found = hub_error(status, {"X-Error-Code": header}, file, self.settings)
            if found is not None:
                return found
        text = str(doc.get("message") or code)
        message = text.splitlines()[0].rstrip(". ") if text.strip() else code
        kind = HubPathFailed if code == "other" else DownloadError
        return kind(
            f"huggingface_hub could not fetch {spec.path_in_repo}: {message}",
            resumable=bool(doc.get("resumable")),
        )

    def _progress(self, done: int) -> Progress:
        self.bytes_done = done
        self.meter.update(done)
        return progress(self.filename, done, self.bytes_total, self.meter.speed, self.eta)

    # --- into the library -------------------------------------------------------------------
    async def _commit(self, stage: Path, part: PartFile) -> AsyncGenerator[Event, None]:
        assert self._staged is not None
        staged = ensure_inside(stage, self._staged)
        name = part.target.name
        fd = await asyncio.to_thread(os.open, staged, os.O_RDONLY | os.O_CLOEXEC)
        try:
            size = (await asyncio.to_thread(os.fstat, fd)).st_size
            digest = hashlib.sha256()
            at = 0
            while at < size:
                at = await asyncio.to_thread(_hash_step, fd, at, digest)
                yield Progress(f"verify {name}", at / size, at, size)
            problem = await asyncio.to_thread(check_fd, name, fd)
            await asyncio.to_thread(os.fsync, fd)
        finally:
            os.close(fd)
        sha = digest.hexdigest()
        if self._expected and sha != self._expected:
            raise ChecksumError(
                f"sha256 mismatch for {name}: expected {self._expected}, got {sha};"
                " the downloaded file was deleted"
            )
        if problem is not None:
            raise DownloadError(problem)
        try:
            await asyncio.to_thread(_move, staged, part.target)
        except FileExistsError:
            raise AlreadyExistsError(
                f"{self.spec.folder}/{name} appeared in the library meanwhile; kept that one"
            ) from None
        spec = self.spec
        self.bytes_done = self.bytes_total = size
        self.meta = DownloadMeta(
            kind=spec.kind,
            source=spec.source_url or spec.key,
            url=redact_url(spec.url),
            folder=spec.folder,
            filename=name,
            size=size,
            sha256=sha,
            repo_id=spec.repo_id,
            revision=spec.revision,
            commit=self.commit,
            path_in_repo=spec.path_in_repo,
        )
        log.info("downloaded %s through huggingface_hub (%d bytes, sha256 %s)", name, size, sha)
        yield Progress(f"download {name}", 1.0, size, size, "done")


def _parse(raw: bytes) -> dict[str, Any]:
    with contextlib.suppress(ValueError):
        doc = json.loads(raw)
        if isinstance(doc, dict):
            return doc
    return {}


def _staged_bytes(stage: Path) -> int:
    """Bytes in the staging folder so far (huggingface_hub's ``.incomplete`` file, or the
    finished one)."""
    total = 0
    for folder, _dirs, files in os.walk(stage):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.stat(os.path.join(folder, name)).st_size
    return total


def _hash_step(fd: int, at: int, digest: Any) -> int:
    """Feed the next (up to) 64 MiB of `fd` from `at` to `digest`; the new offset."""
    end = at + 8 * _READ_STEP
    while at < end:
        data = os.pread(fd, _READ_STEP, at)
        if not data:
            break
        digest.update(data)
        at += len(data)
    return at


def _move(staged: Path, target: Path) -> None:
    """Rename the verified file onto the target (never over an existing one)."""
    if target.exists():
        raise FileExistsError(target)
    os.rename(staged, target)
    _fsync_dir(target.parent)


class HubFirst:
    """The engine of a Hub download when a fast path is installed: our HTTP engine, handing
    over to `HubDownload` when the Hub serves the file through Xet (or always, for hf_transfer).
    Reads like the engine running now."""

    def __init__(
        self,
        spec: DownloadSpec,
        settings: Settings,
        library_root: Path,
        *,
        mode: str,
        on_complete: OnComplete | None,
        make_http: Callable[[Callable[[Mapping[str, str]], bool] | None], HttpDownload],
        command: list[str] | None = None,
    ) -> None:
        self.mode = mode
        self._hub = HubDownload(
            spec, settings, library_root, mode=mode, on_complete=on_complete, command=command
        )
        self._make_http = make_http
        self._http = make_http(is_xet if mode == "hf_xet" else None)
        self._active: HttpDownload | HubDownload = self._http
        if mode != "hf_xet":
            self._active = self._hub

    def __getattr__(self, name: str) -> Any:  # filename, bytes_done, speed, meta, target, ...
        return getattr(self._active, name)

    @property
    def via_hub(self) -> bool:
        return self._active is self._hub

    async def run(self) -> AsyncGenerator[Event, None]:
        if self._active is self._http:
            try:
                async with aclosing(self._http.run()) as events:
                    async for event in events:
                        yield event
                return
            except HubFastPath:
                self._active = self._hub
        try:
            async with aclosing(self._hub.run()) as events:
                async for event in events:
                    yield event
        except HubPathFailed as failed:
            log.warning("download %s: %s; fetching it over HTTP", self._hub.spec.key, failed)
            yield LogLine(f"{failed}; fetching it without huggingface_hub", "download")
            self._http = self._make_http(None)
            self._active = self._http
            async with aclosing(self._http.run()) as events:
                async for event in events:
                    yield event

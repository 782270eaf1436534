"""A fake Hugging Face Hub on loopback: the routes huggingface_hub and our downloader call.

Hub (one origin): ``HEAD/GET /{repo}/resolve/{rev}/{path}`` answers small files itself (ETag =
a git blob id) and redirects LFS files (302 + ``X-Linked-Etag`` = the sha256, ``X-Linked-Size``)
to a CDN on a second origin (files marked Xet also name their ``X-Xet-Hash``); every answer
carries ``X-Repo-Commit``. ``/api/models/{repo}/
revision/{rev}`` and ``/api/models/{repo}/tree/{rev}`` serve HfApi. Errors carry
``X-Error-Code``: GatedRepo (401 without the right token), RepoNotFound, RevisionNotFound,
EntryNotFound. Requests are recorded with their headers, so tests can check where the token went.

Set HF_HUB_DISABLE_TELEMETRY=1 and HF_HUB_DISABLE_XET=1 before huggingface_hub is imported;
pass the hub's `base` as the endpoint.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.download_server import Seen

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class HubRepo:
    files: dict[str, bytes]
    lfs: set[str] = field(default_factory=set)
    xet: set[str] = field(default_factory=set)
    """LFS files the Hub says it serves through Xet (``X-Xet-Hash``); the bytes still come
    from the CDN (no Xet storage is faked: huggingface_hub runs with HF_HUB_DISABLE_XET)."""
    gated: bool = False
    private: bool = False
    token: str | None = None
    commit: str = COMMIT


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()  # git's blob id


class FakeHub:
    def __init__(self) -> None:
        self.repos: dict[str, HubRepo] = {}
        self.requests: list[Seen] = []
        self.cdn_requests: list[Seen] = []
        self.base = ""
        self.cdn = ""
        self._runners: list[web.AppRunner] = []
        self._blobs: dict[str, bytes] = {}

    def add_repo(self, repo_id: str, files: dict[str, bytes], **options: Any) -> HubRepo:
        repo = HubRepo(files=files, **options)
        self.repos[repo_id] = repo
        for path in repo.lfs:
            self._blobs[sha256(files[path])] = files[path]
        return repo

    async def __aenter__(self) -> FakeHub:
        hub = web.Application()
        hub.router.add_route("*", "/api/models/{ns}/{name}/revision/{rev}", self._revision)
        hub.router.add_route("*", "/api/models/{ns}/{name}/tree/{rev}", self._tree)
        hub.router.add_route("*", "/{ns}/{name}/resolve/{rev}/{path:.+}", self._resolve)
        hub.router.add_route("*", "/{tail:.*}", self._unknown)
        cdn = web.Application()
        cdn.router.add_route("*", "/blobs/{sha}", self._blob)
        self.base = await self._start(hub)
        self.cdn = await self._start(cdn)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for runner in self._runners:
            await runner.cleanup()

    async def _start(self, app: web.Application) -> str:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        self._runners.append(runner)
        return f"http://127.0.0.1:{runner.addresses[0][1]}"

    # --- routes ---------------------------------------------------------------------------
    def _record(self, request: web.Request, into: list[Seen]) -> None:
        into.append(Seen(request.method, request.path, dict(request.headers)))

    def _check(self, request: web.Request) -> tuple[HubRepo | None, web.Response | None]:
        repo_id = f"{request.match_info['ns']}/{request.match_info['name']}"
        repo = self.repos.get(repo_id)
        auth = request.headers.get("Authorization")
        if repo is None or (repo.private and auth != f"Bearer {repo.token}"):
            return None, _error(401, "RepoNotFound", "Repository not found")
        if repo.gated and auth != f"Bearer {repo.token}":
            message = f"Access to model {repo_id} is restricted. You must have access to it."
            return None, _error(401, "GatedRepo", message)
        rev = request.match_info["rev"]
        if rev not in ("main", repo.commit):
            return None, _error(404, "RevisionNotFound", "Invalid rev id")
        return repo, None

    async def _revision(self, request: web.Request) -> web.StreamResponse:
        self._record(request, self.requests)
        repo, error = self._check(request)
        if error is not None or repo is None:
            return error or web.Response(status=500)
        repo_id = f"{request.match_info['ns']}/{request.match_info['name']}"
        siblings = [{"rfilename": p} for p in repo.files]
        return web.json_response({"id": repo_id, "sha": repo.commit, "siblings": siblings})

    async def _tree(self, request: web.Request) -> web.StreamResponse:
        self._record(request, self.requests)
        repo, error = self._check(request)
        if error is not None or repo is None:
            return error or web.Response(status=500)
        entries: list[dict[str, Any]] = []
        folders = sorted({p.rsplit("/", 1)[0] for p in repo.files if "/" in p})
        entries += [{"type": "directory", "path": d, "oid": "1" * 40, "size": 0} for d in folders]
        for path, data in sorted(repo.files.items()):
            entry: dict[str, Any] = {
                "type": "file",
                "path": path,
                "size": len(data),
                "oid": git_blob_id(data),
            }
            if path in repo.lfs:
                entry["lfs"] = {"oid": sha256(data), "size": len(data), "pointerSize": 134}
            entries.append(entry)
        return web.json_response(entries)

    async def _resolve(self, request: web.Request) -> web.StreamResponse:
        self._record(request, self.requests)
        repo, error = self._check(request)
        if error is not None or repo is None:
            return error or web.Response(status=500)
        path = request.match_info["path"]
        data = repo.files.get(path)
        if data is None:
            response = _error(404, "EntryNotFound", "Entry not found")
            response.headers["X-Repo-Commit"] = repo.commit
            return response
        common = {"X-Repo-Commit": repo.commit}
        if path in repo.lfs:
            digest = sha256(data)
            if path in repo.xet:
                common["X-Xet-Hash"] = digest
                common["X-Xet-Refresh-Route"] = f"/api/models/{repo_id_of(request)}/xet-read-token"
            return web.Response(
                status=302,
                headers={
                    **common,
                    "Location": f"{self.cdn}/blobs/{digest}",
                    "X-Linked-Etag": f'"{digest}"',
                    "X-Linked-Size": str(len(data)),
                    "ETag": f'"{digest}"',
                },
            )
        return await ranged(request, data, f'"{git_blob_id(data)}"', common)

    async def _blob(self, request: web.Request) -> web.StreamResponse:
        self._record(request, self.cdn_requests)
        data = self._blobs.get(request.match_info["sha"])
        if data is None:
            return web.Response(status=404)
        return await ranged(request, data, f'"cdn-{request.match_info["sha"][:20]}"', {})

    async def _unknown(self, request: web.Request) -> web.StreamResponse:
        self._record(request, self.requests)
        return web.Response(status=404, text="not found")


def repo_id_of(request: web.Request) -> str:
    return f"{request.match_info['ns']}/{request.match_info['name']}"


def _error(status: int, code: str, message: str) -> web.Response:
    headers = {"X-Error-Code": code, "X-Error-Message": message}
    return web.json_response({"error": message}, status=status, headers=headers)


async def ranged(
    request: web.Request, data: bytes, etag: str, headers: dict[str, str]
) -> web.StreamResponse:
    """Serve `data` honouring Range + If-Range (206), else whole (200)."""
    out = {**headers, "ETag": etag, "Accept-Ranges": "bytes"}
    start = 0
    wanted = request.headers.get("Range", "")
    if wanted.startswith("bytes=") and request.headers.get("If-Range") in (None, etag):
        start = int(wanted[6:].split("-")[0] or 0)
    body = data[start:]
    if start:
        out["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
    response = web.StreamResponse(status=206 if start else 200, headers=out)
    response.content_length = len(body)
    await response.prepare(request)
    if request.method != "HEAD":
        await response.write(body)
    await response.write_eof()
    return response

"""CivitAI: model pages and download links resolved to one file through the public API.

``/models/<id>[/slug][?modelVersionId=<v>]`` asks ``GET {api}/api/v1/models/<id>`` (the given
version, else the newest); ``/api/download/models/<v>`` and ``/api/v1/model-versions/<v>`` ask
``GET {api}/api/v1/model-versions/<v>``. The primary file gives the name, the download URL and
the sha256; the model type gives the library folder. The token (``CIVITAI_API_TOKEN``) is sent
as a Bearer token.

`lookup_by_hash` asks ``/api/v1/model-versions/by-hash/<sha256>`` what a library file is (the
model, version, base model and trigger words), for `models info --civitai`.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

import aiohttp

from comfy_tui.errors import NetworkError, NotFoundError, ValidationError
from comfy_tui.services.downloads.data import DownloadError, normalize_sha256
from comfy_tui.services.downloads.names import sanitize_filename
from comfy_tui.services.downloads.urls import check_download_url, origin
from comfy_tui.services.net import Network
from comfy_tui.store.civitai_index import CivitaiInfo

CIVITAI_DOMAINS = ("civitai.com", "civitai.red")

TYPE_FOLDERS: dict[str, str] = {
    "checkpoint": "checkpoints",
    "lora": "loras",
    "locon": "loras",
    "dora": "loras",
    "lycoris": "loras",
    "textualinversion": "embeddings",
    "hypernetwork": "hypernetworks",
    "controlnet": "controlnet",
    "vae": "vae",
    "upscaler": "upscale_models",
}
"""CivitAI model type (lower case) → library folder."""

_MAX_JSON = 8 * 1024 * 1024


@dataclass(frozen=True)
class CivitaiRef:
    """What a CivitAI URL points at: a model (newest version) or one model version."""

    model_id: int | None
    version_id: int | None


@dataclass(frozen=True)
class CivitaiFile:
    download_url: str
    filename: str
    folder: str | None
    sha256: str | None
    model_id: int | None
    version_id: int


def is_civitai_url(url: str, api_base: str) -> bool:
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower()
    if any(host == d or host.endswith("." + d) for d in CIVITAI_DOMAINS):
        return True
    return parts.scheme.lower() in ("http", "https") and origin(url) == origin(api_base)


def parse_civitai_url(url: str) -> CivitaiRef:
    parts = urllib.parse.urlsplit(url)
    path = parts.path.rstrip("/")
    for pattern in (r"/api/download/models/(\d+)", r"/api/v1/model-versions/(\d+)"):
        match = re.fullmatch(pattern, path)
        if match:
            return CivitaiRef(None, int(match.group(1)))
    match = re.fullmatch(r"/models/(\d+)(?:/[^/]*)?", path)
    if match:
        query = urllib.parse.parse_qs(parts.query)
        wanted = (query.get("modelVersionId") or query.get("version") or [""])[0]
        return CivitaiRef(int(match.group(1)), int(wanted) if wanted.isdigit() else None)
    raise ValidationError(
        f"{url!r} is not a CivitAI model page (/models/<id>) or download link"
        " (/api/download/models/<version>)"
    )


async def _get_json(
    session: aiohttp.ClientSession, url: str, token: str | None, what: str, network: Network
) -> dict[str, Any]:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        options = network.request_options(url, headers)
        async with session.get(url, allow_redirects=False, **options) as response:
            if response.status in (401, 403):
                raise DownloadError(
                    f"CivitAI refused access to {what} (HTTP {response.status}):"
                    " set CIVITAI_API_TOKEN to a token of an account that may download it"
                )
            if response.status == 404:
                raise NotFoundError(f"CivitAI has no {what}")
            if response.status != 200:
                raise NetworkError(f"CivitAI answered HTTP {response.status} for {what}")
            body = await response.content.read(_MAX_JSON + 1)
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise NetworkError(f"cannot reach CivitAI ({type(exc).__name__})") from None
    if len(body) > _MAX_JSON:
        raise DownloadError(f"CivitAI's answer for {what} is too large")
    try:
        doc = json.loads(body)
    except ValueError:
        raise DownloadError(f"CivitAI's answer for {what} is not JSON") from None
    if not isinstance(doc, dict):
        raise DownloadError(f"CivitAI's answer for {what} is not a JSON object")
    return doc


def _as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _pick_file(version: dict[str, Any], what: str) -> dict[str, Any]:
    files = [f for f in version.get("files") or [] if isinstance(f, dict)]
    if not files:
        raise DownloadError(f"CivitAI lists no file for {what}")
    primary = [f for f in files if f.get("primary") is True]
    return (primary or files)[0]


async def resolve_civitai(
    ref: CivitaiRef,
    *,
    api_base: str,
    token: str | None,
    allow_local: bool,
    timeout: float = 30.0,
    network: Network | None = None,
) -> CivitaiFile:
    """Ask the API which file `ref` means. Raises a one-line error for each way it can fail."""
    api = api_base.rstrip("/")
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    network = network or Network.from_env()
    async with network.session(timeout=client_timeout) as session:
        if ref.version_id is not None and ref.model_id is None:
            what = f"model version {ref.version_id}"
            version = await _get_json(
                session, f"{api}/api/v1/model-versions/{ref.version_id}", token, what, network
            )
            model = version.get("model") if isinstance(version.get("model"), dict) else {}
            model_type = (model or {}).get("type")
            model_id = _as_int(version.get("modelId"))
        else:
            what = f"model {ref.model_id}"
            model = await _get_json(
                session, f"{api}/api/v1/models/{ref.model_id}", token, what, network
            )
            versions = [v for v in model.get("modelVersions") or [] if isinstance(v, dict)]
            if ref.version_id is not None:
                versions = [v for v in versions if v.get("id") == ref.version_id]
                what = f"version {ref.version_id} of model {ref.model_id}"
            if not versions:
                raise NotFoundError(f"CivitAI lists no {what}")
            version = versions[0]
            model_type = model.get("type")
            model_id = ref.model_id
    version_id = _as_int(version.get("id")) or ref.version_id
    if version_id is None:
        raise DownloadError(f"CivitAI's answer for {what} has no version id")
    file = _pick_file(version, what)
    raw_url, raw_name = file.get("downloadUrl"), file.get("name")
    if not isinstance(raw_url, str) or not isinstance(raw_name, str):
        raise DownloadError(f"CivitAI's file entry for {what} has no name or download URL")
    try:
        url = check_download_url(raw_url, allow_local=allow_local, what="CivitAI download URL")
    except ValidationError as exc:
        raise DownloadError(str(exc)) from None
    name = sanitize_filename(raw_name)
    if name is None:
        raise DownloadError(f"CivitAI's file name {raw_name!r} is not usable")
    hashes = file.get("hashes") if isinstance(file.get("hashes"), dict) else {}
    sha = (hashes or {}).get("SHA256")
    try:
        sha256 = normalize_sha256(sha) if isinstance(sha, str) else None
    except ValidationError:
        sha256 = None
    folder = TYPE_FOLDERS.get(str(model_type or "").lower().replace(" ", ""))
    return CivitaiFile(url, name, folder, sha256, model_id, version_id)


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def parse_version_info(sha256: str, version: dict[str, Any], now: float) -> CivitaiInfo:
    """A model-version answer (``/api/v1/model-versions/...``) as what the index keeps."""
    model = version.get("model") if isinstance(version.get("model"), dict) else {}
    words = version.get("trainedWords") if isinstance(version.get("trainedWords"), list) else []
    return CivitaiInfo(
        sha256=sha256,
        found=True,
        looked_up_at=now,
        model_id=_as_int(version.get("modelId")),
        version_id=_as_int(version.get("id")),
        model_name=_text((model or {}).get("name")),
        version_name=_text(version.get("name")),
        model_type=_text((model or {}).get("type")),
        base_model=_text(version.get("baseModel")),
        trained_words=tuple(dict.fromkeys(w.strip() for w in words or [] if _text(w))),
    )


async def lookup_by_hash(
    sha256: str,
    *,
    api_base: str,
    token: str | None,
    now: float,
    timeout: float = 30.0,
    network: Network | None = None,
) -> CivitaiInfo:
    """Ask ``GET {api}/api/v1/model-versions/by-hash/<sha256>`` which model a file is; a 404
    is an answer too (``found`` False). Other failures raise their one-line error."""
    sha256 = normalize_sha256(sha256)
    url = f"{api_base.rstrip('/')}/api/v1/model-versions/by-hash/{sha256}"
    network = network or Network.from_env()
    what = f"a model with sha256 {sha256[:12]}…"
    async with network.session(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
        try:
            version = await _get_json(session, url, token, what, network)
        except NotFoundError:
            return CivitaiInfo(sha256=sha256, found=False, looked_up_at=now)
    return parse_version_info(sha256, version, now)

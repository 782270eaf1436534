"""From what the user typed to a checked `DownloadSpec`: URL, Hugging Face, or CivitAI.

Everything the user can get wrong is refused here with a `ValidationError` (exit 2) before
anything is created: bad or unsafe URLs, repo ids, file paths, revisions, folders, sha256.
Only CivitAI needs the network (its API says which file a page means).
"""

from __future__ import annotations

import re
import urllib.parse

from comfy_tui.core.url_secrets import redact_url
from comfy_tui.errors import ValidationError
from comfy_tui.services.downloads.civitai import is_civitai_url, parse_civitai_url, resolve_civitai
from comfy_tui.services.downloads.data import (
    DownloadRequest,
    DownloadSpec,
    Kind,
    normalize_sha256,
)
from comfy_tui.services.downloads.hf import (
    HubFile,
    basename,
    parse_hf_url,
    resolve_url,
    validate_repo_path,
    validate_revision,
)
from comfy_tui.services.downloads.names import sanitize_filename
from comfy_tui.services.downloads.target_folder import KNOWN_FOLDERS, canonical_folder, guess_folder
from comfy_tui.services.downloads.urls import check_download_url, is_loopback_url
from comfy_tui.settings import Settings
from comfy_tui.validate import validate_filename, validate_repo_id, validate_url

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def looks_like_url(source: str) -> bool:
    """True for anything with a scheme (``https:``, ``javascript:``); repo ids have no ``:``."""
    return bool(_SCHEME.match(source))


def _need_folder(what: str) -> ValidationError:
    return ValidationError(
        f"cannot tell which library folder {what} goes in: pass --folder"
        f" ({', '.join(KNOWN_FOLDERS[:6])}, ...)"
    )


class Resolver:
    """Turns `DownloadRequest`s into `DownloadSpec`s using the endpoints and tokens in settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def resolve(self, request: DownloadRequest) -> DownloadSpec:
        source = request.source.strip() if isinstance(request.source, str) else ""
        if not source:
            raise ValidationError("nothing to download: give a URL or a Hugging Face REPO_ID FILE")
        sha256 = normalize_sha256(request.sha256, what="--sha256") if request.sha256 else None
        folder = canonical_folder(request.folder) if request.folder is not None else None
        if not looks_like_url(source):
            return self._hub(request, source, folder, sha256)
        if request.file is not None:
            raise ValidationError("FILE goes with a Hugging Face REPO_ID, not with a URL")
        validate_url(source, allow_local=True)  # no credentials, spaces or odd schemes
        if parse_hf_url(source, self.settings.hf_endpoint) is not None:
            return self._hub(request, source, folder, sha256)
        if is_civitai_url(source, self.settings.civitai_api):
            if request.revision is not None:
                raise ValidationError("--revision is only for Hugging Face downloads")
            return await self._civitai(source, folder, sha256)
        if request.revision is not None:
            raise ValidationError("--revision is only for Hugging Face downloads")
        url = check_download_url(source, allow_local=self.settings.allow_local_downloads)
        if folder is None:
            segments = urllib.parse.unquote(urllib.parse.urlsplit(url).path).split("/")[:-1]
            folder = guess_folder(segments)
            if folder is None:
                raise _need_folder(repr(url.rsplit("/", 1)[-1] or url))
        return DownloadSpec(
            kind=Kind.URL,
            key=f"url:{redact_url(url)}",
            url=url,
            folder=folder,
            expected_sha256=sha256,
            allow_local=self.settings.allow_local_downloads,
            source_url=url,
        )

    def _hub(
        self, request: DownloadRequest, source: str, folder: str | None, sha256: str | None
    ) -> DownloadSpec:
        endpoint = self.settings.hf_endpoint
        if looks_like_url(source):
            parsed = parse_hf_url(source, endpoint)
            assert parsed is not None
            file = parsed
            if request.revision is not None:
                file = HubFile(file.repo_id, validate_revision(request.revision), file.path)
        else:
            repo_id = validate_repo_id(source)
            if request.file is None:
                raise ValidationError(
                    f"say which file of {repo_id} to download: comfy-tui models download"
                    f" {repo_id} FILE"
                )
            revision = validate_revision(request.revision or "main")
            file = HubFile(repo_id, revision, validate_repo_path(request.file))
        name = basename(file.path)
        try:
            validate_filename(name)
        except ValidationError:
            raise ValidationError(f"{file.path!r} cannot be stored in the library") from None
        if folder is None:
            folder = guess_folder(file.path.split("/")[:-1])
            if folder is None:
                raise _need_folder(repr(name))
        allow_local = is_loopback_url(endpoint)
        url = check_download_url(resolve_url(endpoint, file), allow_local=allow_local)
        return DownloadSpec(
            kind=Kind.HF,
            key=f"hf:{file.repo_id}@{file.revision}:{file.path}",
            url=url,
            folder=folder,
            filename=name,
            expected_sha256=sha256,
            allow_local=allow_local,
            token=self.settings.hf_token,
            repo_id=file.repo_id,
            revision=file.revision,
            path_in_repo=file.path,
            source_url=source if looks_like_url(source) else None,
        )

    async def _civitai(self, source: str, folder: str | None, sha256: str | None) -> DownloadSpec:
        api = self.settings.civitai_api
        allow_local = is_loopback_url(api)
        if urllib.parse.urlsplit(source).scheme.lower() != "https":
            check_download_url(source, allow_local=allow_local)
        ref = parse_civitai_url(source)
        found = await resolve_civitai(
            ref, api_base=api, token=self.settings.civitai_token, allow_local=allow_local
        )
        folder = folder or found.folder
        if folder is None:
            raise _need_folder(repr(found.filename))
        name = sanitize_filename(found.filename) or found.filename
        return DownloadSpec(
            kind=Kind.CIVITAI,
            key=f"civitai:{found.version_id}",
            url=found.download_url,
            folder=folder,
            filename=name,
            expected_sha256=sha256 or found.sha256,
            allow_local=allow_local,
            token=self.settings.civitai_token,
            civitai_model_id=found.model_id,
            civitai_version_id=found.version_id,
            source_url=source,
        )

"""Hugging Face: parse repo/file and URLs, build resolve URLs, read Hub headers, list files.

Downloads go through our own HTTP engine on ``{hf_endpoint}/{repo}/resolve/{rev}/{path}`` (so a
killed 10 GB download resumes from its part file). The Hub's answers carry what the library
records: ``X-Repo-Commit`` (the commit sha) and, for LFS files, ``X-Linked-Etag`` (the sha256).
Errors come with ``X-Error-Code`` (GatedRepo, RepoNotFound, EntryNotFound, RevisionNotFound).
Listing a repo's files uses `huggingface_hub.HfApi` in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import re
import unicodedata
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from comfy_tui.errors import NetworkError, NotFoundError, ValidationError
from comfy_tui.services.downloads.data import DownloadError
from comfy_tui.services.downloads.urls import origin
from comfy_tui.settings import Settings
from comfy_tui.validate import validate_repo_id

log = logging.getLogger(__name__)

HF_HOSTS = frozenset({"huggingface.co", "www.huggingface.co", "hf.co"})
_SHA256 = re.compile(r"[0-9a-f]{64}")
_COMMIT = re.compile(r"[0-9a-f]{40}")


@dataclass(frozen=True)
class HubFile:
    """Where a file lives on the Hub."""

    repo_id: str
    revision: str
    path: str


@dataclass(frozen=True)
class RepoEntry:
    """One file of a repo, for a picker: its path, size and (LFS files) sha256."""

    path: str
    size: int | None
    sha256: str | None = None


# --- input ---------------------------------------------------------------------------------


def _plain_text(value: str) -> bool:
    return all(not ch.isspace() and unicodedata.category(ch)[0] != "C" for ch in value)


def validate_revision(revision: str) -> str:
    """A branch, tag or commit: printable, no spaces, no ``..``, at most 256 characters."""
    text = revision if isinstance(revision, str) else ""
    if not text or len(text) > 256 or not _plain_text(text) or ".." in text:
        raise ValidationError(
            f"invalid revision {revision!r}: use a branch, tag or commit (no spaces, no '..')"
        )
    return text


def validate_repo_path(path: str) -> str:
    """A file path inside a repo: relative, '/'-separated, no '..', no empty or hidden parts."""
    text = path if isinstance(path, str) else ""
    bad = f"invalid file path {path!r} in the repo"
    if not text:
        raise ValidationError(f"{bad}: it is empty")
    if text.startswith("/") or "\\" in text or not _plain_text(text.replace(" ", "")):
        raise ValidationError(f"{bad}: use a relative path with '/' between folders")
    parts = text.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise ValidationError(f"{bad}: '..', '.' and empty parts are not allowed")
    return text


def parse_hf_url(url: str, endpoint: str) -> HubFile | None:
    """The repo, revision and file of a Hub file URL (``/blob/`` or ``/resolve/``), or None
    when `url` is not on huggingface.co / hf.co / the configured endpoint."""
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower()
    path = parts.path
    if host not in HF_HOSTS:
        if parts.scheme.lower() not in ("http", "https") or origin(url) != origin(endpoint):
            return None
        prefix = urllib.parse.urlsplit(endpoint).path.rstrip("/")
        if prefix:
            if not path.startswith(prefix + "/"):
                return None
            path = path[len(prefix) :]
    segments = path.strip("/").split("/")
    if segments and segments[0] in ("datasets", "spaces"):
        raise ValidationError(f"{url!r} is a {segments[0][:-1]}: only model repos are supported")
    at = next((i for i in (1, 2) if len(segments) > i and segments[i] in ("resolve", "blob")), 0)
    if not at:
        raise ValidationError(
            f"{url!r} names no file: use https://huggingface.co/<owner>/<repo>/resolve/<rev>/<file>"
        )
    if len(segments) < at + 3:
        raise ValidationError(f"{url!r} names no file after the revision")
    repo_id = validate_repo_id("/".join(segments[:at]))
    revision = validate_revision(urllib.parse.unquote(segments[at + 1]))
    file = validate_repo_path("/".join(urllib.parse.unquote(s) for s in segments[at + 2 :]))
    return HubFile(repo_id, revision, file)


def resolve_url(endpoint: str, file: HubFile) -> str:
    rev = urllib.parse.quote(file.revision, safe="")
    return f"{endpoint.rstrip('/')}/{file.repo_id}/resolve/{rev}/{urllib.parse.quote(file.path)}"


def repo_page(endpoint: str, repo_id: str) -> str:
    return f"{endpoint.rstrip('/')}/{repo_id}"


def basename(path: str) -> str:
    return PurePosixPath(path).name


# --- the Hub's answers ---------------------------------------------------------------------


def _unquote_etag(value: str | None) -> str:
    text = (value or "").strip()
    text = text.removeprefix("W/")
    return text.strip('"').lower()


def hub_headers(headers: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(commit sha, sha256) from a Hub response; None for what it does not say.

    The sha256 comes from ``X-Linked-Etag`` (LFS files), else an ``ETag`` that is a sha256;
    a git blob id (40 hex digits, small files) is not one.
    """
    commit = (headers.get("X-Repo-Commit") or "").strip().lower() or None
    if commit is not None and not _COMMIT.fullmatch(commit):
        commit = None
    if commit is None:
        return None, None
    for name in ("X-Linked-Etag", "ETag"):
        tag = _unquote_etag(headers.get(name))
        if _SHA256.fullmatch(tag):
            return commit, tag
    return commit, None


def _token_hint(settings: Settings) -> str:
    if settings.hf_token:
        return "check that the token set in HF_TOKEN / hf_token can read it"
    return "set a token (HF_TOKEN or hf_token in settings.toml)"


def gated_message(settings: Settings, repo_id: str) -> str:
    page = repo_page(settings.hf_endpoint, repo_id)
    return f"{repo_id} is gated: accept the licence at {page}, then {_token_hint(settings)}"


def hub_error(
    status: int, headers: Mapping[str, str], file: HubFile, settings: Settings
) -> DownloadError | None:
    """A clear error for a failed resolve request, or None to use the generic one."""
    code = headers.get("X-Error-Code", "")
    where = f"{file.path} in {file.repo_id}@{file.revision}"
    if code == "GatedRepo":
        return DownloadError(gated_message(settings, file.repo_id))
    if code == "RepoNotFound" or (status == 401 and not code):
        return DownloadError(
            f"repository {file.repo_id} not found on {settings.hf_endpoint}, or it is private"
            f" or gated: check the name, accept its licence at"
            f" {repo_page(settings.hf_endpoint, file.repo_id)} if it has one, and"
            f" {_token_hint(settings)}"
        )
    if code == "RevisionNotFound":
        return DownloadError(f"revision {file.revision!r} not found in {file.repo_id}")
    if code == "EntryNotFound" or status == 404:
        return DownloadError(f"file not found: {where}")
    if status == 403:
        return DownloadError(f"access to {where} was refused (HTTP 403): {_token_hint(settings)}")
    return None


# --- listing a repo ------------------------------------------------------------------------


def _list_sync(settings: Settings, repo_id: str, revision: str) -> list[RepoEntry]:
    from huggingface_hub import HfApi
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )
    from huggingface_hub.hf_api import RepoFile

    api = HfApi(endpoint=settings.hf_endpoint.rstrip("/"), token=settings.hf_token or False)
    try:
        entries = []
        for item in api.list_repo_tree(repo_id, revision=revision, recursive=True):
            if isinstance(item, RepoFile):
                sha = item.lfs.sha256 if item.lfs is not None else None
                entries.append(RepoEntry(item.path, item.size, sha))
    except GatedRepoError:
        raise DownloadError(gated_message(settings, repo_id)) from None
    except RevisionNotFoundError:
        raise NotFoundError(f"revision {revision!r} not found in {repo_id}") from None
    except RepositoryNotFoundError:
        raise NotFoundError(
            f"repository {repo_id} not found on {settings.hf_endpoint}, or it is private:"
            f" {_token_hint(settings)}"
        ) from None
    except HfHubHTTPError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise NetworkError(f"listing {repo_id} failed: {first}") from None
    except Exception as exc:  # the Hub client's own transport errors (httpx, requests)
        log.info("listing %s failed", repo_id, exc_info=True)
        raise NetworkError(f"cannot list {repo_id} on {settings.hf_endpoint}: {exc}") from None
    return sorted(entries, key=lambda e: e.path)


async def list_repo_files(
    settings: Settings, repo_id: str, revision: str = "main"
) -> list[RepoEntry]:
    """Every file of a model repo at `revision` (for the picker), from a worker thread."""
    repo_id = validate_repo_id(repo_id)
    revision = validate_revision(revision)
    return await asyncio.to_thread(_list_sync, settings, repo_id, revision)

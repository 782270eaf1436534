"""The child process that fetches one Hub file with huggingface_hub (its Xet fast path).

Run as ``python -m comfy_tui.services.downloads.hub_child``; reads one JSON request on stdin
(``repo_id``, ``path``, ``revision``, ``endpoint``, ``token`` or null, ``local_dir``, ``mode``)
and writes JSON lines on stdout: ``{"size", "commit", "sha256", "xet"}`` once the Hub answered
the metadata request, then ``{"path"}`` (the downloaded file, inside ``local_dir``) or
``{"error", "message", "resumable"}``. The token comes on stdin only (never argv or the
environment), and only when the download was handed one. A separate process so that a pause
can stop it at once (`hub_fast.HubDownload` kills it; huggingface_hub resumes its
``.incomplete`` file next time).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any


def _say(doc: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(doc) + "\n")
    sys.stdout.flush()


def _error(code: str, message: str, *, resumable: bool = False) -> int:
    _say({"error": code, "message": message, "resumable": resumable})
    return 1


def fetch(request: dict[str, Any]) -> int:
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    if request.get("mode") == "hf_transfer":
        os.environ["HF_HUB_ENABLE_HF_TRANSFER"] = "1"
    from huggingface_hub import get_hf_file_metadata, hf_hub_download, hf_hub_url
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        HfHubHTTPError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    repo_id, path, revision = request["repo_id"], request["path"], request["revision"]
    endpoint = request["endpoint"].rstrip("/")
    token = request.get("token") or False  # False: never the token stored on the machine
    try:
        url = hf_hub_url(repo_id, path, revision=revision, endpoint=endpoint)
        meta = get_hf_file_metadata(url, token=token, endpoint=endpoint)
        etag = (meta.etag or "").strip('"').lower()
        _say(
            {
                "size": meta.size,
                "commit": meta.commit_hash,
                "sha256": etag if len(etag) == 64 else None,
                "xet": meta.xet_file_data is not None,
            }
        )
        local = hf_hub_download(
            repo_id,
            path,
            revision=revision,
            endpoint=endpoint,
            token=token,
            local_dir=request["local_dir"],
        )
    except GatedRepoError:
        return _error("gated", repo_id)
    except RepositoryNotFoundError:
        return _error("repo", repo_id)
    except RevisionNotFoundError:
        return _error("revision", revision)
    except EntryNotFoundError:
        return _error("entry", path)
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else 0
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return _error("http", f"HTTP {status}: {first}", resumable=status >= 500 or status == 429)
    except OSError as exc:  # the network (the Hub client's errors derive from OSError) or disk
        return _error("io", f"{type(exc).__name__}: {exc}", resumable=True)
    except Exception as exc:  # hf_xet's own errors (RuntimeError) and anything unforeseen
        return _error("other", f"{type(exc).__name__}: {exc}", resumable=True)
    _say({"path": str(local)})
    return 0


def main() -> int:
    request = json.loads(sys.stdin.readline())
    return fetch(request)


if __name__ == "__main__":
    sys.exit(main())

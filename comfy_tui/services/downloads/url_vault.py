"""Full download URLs that carry a credential, kept apart from the queue in a 0600 file.

`downloads.json` only ever holds redacted URLs (``?token=***``). A download that is not
finished yet still needs its real URL to resume after a restart, so that one lives in
``downloads.secrets.json`` beside the queue: mode 0600, no backup copy, the entry dropped the
moment the download is done, cancelled or removed (and the file deleted once empty). Blocking
functions: call them from a thread.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

from comfy_tui.store.atomic import write_text_atomic
from comfy_tui.store.jsonfile import file_lock

VAULT_NAME = "downloads.secrets.json"


def vault_path(queue_file: Path) -> Path:
    return queue_file.with_name(VAULT_NAME)


def _read(path: Path) -> dict[str, str]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError, UnicodeDecodeError):
        return {}
    if not isinstance(doc, dict):
        return {}
    return {k: v for k, v in doc.items() if isinstance(k, str) and isinstance(v, str)}


def read_urls(queue_file: Path) -> dict[str, str]:
    """Item id → full URL, for every download that still needs one."""
    return _read(vault_path(queue_file))


def keep_url(queue_file: Path, item_id: str, url: str | None) -> None:
    """Remember `url` for `item_id`, or forget it (`url` None)."""
    path = vault_path(queue_file)
    if url is None and not path.exists():
        return
    with file_lock(path):
        urls = _read(path)
        if urls.get(item_id) == url:
            return
        if url is None:
            urls.pop(item_id, None)
        else:
            urls[item_id] = url
        if urls:
            write_text_atomic(path, json.dumps(urls, indent=2, sort_keys=True) + "\n", mode=0o600)
        else:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

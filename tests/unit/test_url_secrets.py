"""One redaction for URLs with credentials: query parameters, signed links, user-info, logs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from comfy_tui.core.url_secrets import has_url_secret, redact_text, redact_url
from comfy_tui.logs import setup_logging
from comfy_tui.services.downloads.data import DownloadRequest
from comfy_tui.services.downloads.store import DownloadItem


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://h.example/m.safetensors?token=abc", "https://h.example/m.safetensors?token=***"),
        ("https://h.example/m?key=1&download=true", "https://h.example/m?key=***&download=true"),
        ("https://h.example/m?API_KEY=1", "https://h.example/m?API_KEY=***"),
        ("https://h.example/m?sig=1&se=2026", "https://h.example/m?sig=***&se=2026"),
        ("https://h.example/m?Signature=zz", "https://h.example/m?Signature=***"),
        (
            "https://b.s3.amazonaws.com/m?X-Amz-Credential=AK&X-Amz-Signature=ff&v=1",
            "https://b.s3.amazonaws.com/m?X-Amz-Credential=***&X-Amz-Signature=***&v=1",
        ),
        ("https://alice:pw@h.example/m", "https://***@h.example/m"),
        ("https://ghp_abc@h.example/m", "https://***@h.example/m"),
        ("https://h.example/m?page=2", "https://h.example/m?page=2"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert has_url_secret(url) is (url != shown)
    assert redact_url(shown) == shown  # idempotent


def test_redact_text_finds_urls_and_bare_parameters() -> None:
    text = "GET https://h.example/a?token=T1 failed; retry with &signature=S2 later"
    assert redact_text(text) == (
        "GET https://h.example/a?token=*** failed; retry with &signature=*** later"
    )


def test_the_log_file_masks_url_secrets(tmp_path: Path) -> None:
    path = tmp_path / "comfy-tui.log"
    handler = setup_logging(path)
    try:
        log = logging.getLogger("comfy_tui.test")
        log.info("fetching %s", "https://cdn.example/m.bin?X-Amz-Signature=deadbeef99&a=1")
        log.info("ask https://u:pass99word@h.example/x")
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    text = path.read_text()
    assert "deadbeef99" not in text and "pass99word" not in text
    assert "X-Amz-Signature=***&a=1" in text and "https://***@h.example/x" in text


def test_a_queue_item_stores_and_shows_the_link_redacted() -> None:
    item = DownloadItem(id="x", request=DownloadRequest("https://h.example/m?token=abc"))
    assert item.to_dict()["request"]["source"] == "https://h.example/m?token=***"
    assert item.label == "https://h.example/m?token=***"
    assert item.request.source.endswith("token=abc")  # in memory, the real link
    assert not item.needs_url
    stored = DownloadItem.from_dict(item.to_dict())
    assert stored is not None and stored.needs_url

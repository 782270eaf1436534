"""Logging setup: one rotating file in the data dir, secrets masked, never the terminal."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable
from pathlib import Path

from comfy_tui.core.url_secrets import redact_text

MASK = "***"
_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

# Things that look like credentials even when we were not told the value.
_PATTERNS = [
    re.compile(r"(?i)(authorization:\s*(?:bearer|token)\s+)[^\s'\"]+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"()\bhf_[A-Za-z0-9]{10,}"),
    re.compile(r"()\bgh[pousr]_[A-Za-z0-9]{20,}"),
    re.compile(r"()\bgithub_pat_[A-Za-z0-9_]{20,}"),
]


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask known secret values, credentials in URLs, and anything shaped like a token."""
    text = redact_text(text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's final message so that no token reaches a handler."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, self.secrets)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.secrets)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


class RotatingFile(logging.FileHandler):
    """A log file (0600) that is moved to `.1` (`.1` to `.2`, ...) when the next record would
    take it past `max_bytes`; `backups` old files are kept. Like logging.handlers'
    RotatingFileHandler, without importing logging.handlers (sockets, pickle, queues) into
    every command."""

    def __init__(self, path: Path, max_bytes: int, backups: int) -> None:
        super().__init__(path, mode="a", encoding="utf-8")
        self.max_bytes = max_bytes
        self.backups = backups
        os.chmod(self.baseFilename, 0o600)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self._full(record):
                self._rotate()
        except Exception:  # as logging does: a broken log file never breaks the program
            self.handleError(record)
            return
        super().emit(record)

    def _full(self, record: logging.LogRecord) -> bool:
        if self.stream is None:  # closed: FileHandler.emit opens it again, empty or not
            return False
        size = self.stream.seek(0, os.SEEK_END)  # the file's size: other processes append too
        return size > 0 and size + len(self.format(record) + self.terminator) >= self.max_bytes

    def _rotate(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        for n in range(self.backups - 1, 0, -1):
            older = f"{self.baseFilename}.{n}"
            if os.path.exists(older):
                os.replace(older, f"{self.baseFilename}.{n + 1}")
        if os.path.exists(self.baseFilename):
            os.replace(self.baseFilename, f"{self.baseFilename}.1")
        self.stream = self._open()
        os.chmod(self.baseFilename, 0o600)


def setup_logging(
    log_file: Path, *, secrets: Iterable[str] = (), level: int = logging.INFO
) -> logging.Handler:
    """Send our logs (and library warnings) to `log_file` (rotating, 0600) and nowhere else.

    Replaces a handler installed by an earlier call, so tests and the CLI can call it again.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handler = RotatingFile(log_file, max_bytes=5 * 1024 * 1024, backups=3)
    handler.setFormatter(logging.Formatter(_FORMAT))
    handler.addFilter(RedactingFilter(secrets))
    handler.set_name("comfy-tui-file")
    root = logging.getLogger()
    for old in list(root.handlers):
        if old.get_name() == "comfy-tui-file":
            root.removeHandler(old)
            old.close()
    # On the root logger so that library warnings (aiohttp, huggingface_hub) land in the file too
    # instead of logging's last-resort handler, which would write over the TUI.
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.WARNING:
        root.setLevel(logging.WARNING)
    logging.getLogger("comfy_tui").setLevel(level)
    return handler

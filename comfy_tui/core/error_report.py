"""An error in full: what failed, why (the whole chain of causes), how to fix it, where to look.

Pure (no Textual): the TUI's error dialog renders it, and `save` writes it to a text file the
user can `cat` or paste into a bug report.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from comfy_tui.errors import (
    ComfyTuiError,
    DamagedIndexError,
    InstallError,
    LockBusyError,
    MetadataError,
    NetworkError,
    NotFoundError,
    ProcessError,
    SettingsError,
    ValidationError,
    VersionInUseError,
)

__all__ = ["ErrorReport", "hint_for"]

_HINTS: tuple[tuple[type[BaseException], str], ...] = (
    (SettingsError, "Fix the value in settings.toml (`comfy-tui config` prints its path)."),
    (VersionInUseError, "Stop its instances first: `comfy-tui ps`, then `comfy-tui stop ID`."),
    (LockBusyError, "Another comfy-tui is doing this now; wait for it (see `comfy-tui ps`)."),
    (DamagedIndexError, "The index is a cache: `comfy-tui models scan` rebuilds it."),
    (MetadataError, "The file named above is damaged or from a newer comfy-tui; move it aside."),
    (NetworkError, "Check the connection or the proxy (HTTPS_PROXY); then try again."),
    (InstallError, "The install log below has the failing step; retry with `comfy-tui install`."),
    (ProcessError, "The log below has the child's own output."),
    (
        NotFoundError,
        "`comfy-tui versions`, `comfy-tui ps` and `comfy-tui models` list what exists.",
    ),
    (ValidationError, "Correct the value named above; nothing was changed."),
    (OSError, "The path and the system's reason are above (permissions, disk full, missing)."),
)


def hint_for(exc: BaseException) -> str:
    """The command or setting that usually fixes this kind of error ("" when none applies)."""
    for kind, hint in _HINTS:
        if isinstance(exc, kind):
            return hint
    return ""


def _describe(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    return text if isinstance(exc, ComfyTuiError) else f"{exc.__class__.__name__}: {text}"


@dataclass(frozen=True)
class ErrorReport:
    """Everything the error dialog shows, in order."""

    title: str
    message: str
    causes: tuple[str, ...] = ()
    hint: str = ""
    log_path: str = ""
    extra: tuple[str, ...] = field(default=())

    @classmethod
    def from_exception(cls, title: str, exc: BaseException, *, log_path: str = "") -> ErrorReport:
        """The message, then each `__cause__`/`__context__` below it, and a fitting hint."""
        causes: list[str] = []
        seen: set[int] = {id(exc)}
        inner = exc.__cause__ or exc.__context__
        while inner is not None and id(inner) not in seen and len(causes) < 8:
            seen.add(id(inner))
            causes.append(_describe(inner))
            inner = inner.__cause__ or inner.__context__
        return cls(title, _describe(exc), tuple(causes), hint_for(exc), log_path)

    def text(self) -> str:
        """The whole report as plain text (what `save` writes)."""
        lines = [self.title, "", self.message]
        lines += [f"caused by: {cause}" for cause in self.causes]
        lines += list(self.extra)
        if self.hint:
            lines += ["", f"fix: {self.hint}"]
        if self.log_path:
            lines += [f"log: {self.log_path}"]
        return "\n".join(lines) + "\n"

    def save(self, directory: Path, *, now: float | None = None) -> Path:
        """Write the report to `directory/error-YYYYmmdd-HHMMSS.txt` (0600) and return the path."""
        directory.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(time.time() if now is None else now))
        path = directory / f"error-{stamp}.txt"
        n = 1
        while path.exists():
            n += 1
            path = directory / f"error-{stamp}-{n}.txt"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(self.text())
        return path

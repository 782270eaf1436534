"""The exception hierarchy every layer raises; each error knows its CLI exit code."""

from __future__ import annotations


class ComfyTuiError(Exception):
    """Base class of every error comfy-tui raises on purpose.

    The message is one line a user can act on; `exit_code` is what the CLI returns.
    """

    exit_code: int = 1


class ValidationError(ComfyTuiError):
    """Input (a flag, a setting, remote data) is not acceptable; nothing was changed."""

    exit_code = 2


class SettingsError(ValidationError):
    """settings.toml or an environment variable holds a bad value."""


class NetworkError(ComfyTuiError):
    """A peer (GitHub, Hugging Face, a download server) could not be reached or misbehaved."""


class InstallError(ComfyTuiError):
    """Installing or removing a ComfyUI version failed; the staging area was cleaned up."""


class ProcessError(ComfyTuiError):
    """A child process (git, uv, ComfyUI) failed to start, crashed or could not be stopped."""


class MetadataError(ComfyTuiError):
    """A metadata file is corrupt, of an unknown schema version, or unreadable."""


class DamagedIndexError(MetadataError):
    """An SQLite file is damaged (corrupt or not a database); a cache can be rebuilt."""


class LockBusyError(ComfyTuiError):
    """Another process holds the lock for this job (for example the same install)."""


class VersionInUseError(ComfyTuiError):
    """A version cannot be removed or changed while an instance of it is live (exit 1)."""


class NotFoundError(ComfyTuiError):
    """A version, instance, model or node that was asked for does not exist."""

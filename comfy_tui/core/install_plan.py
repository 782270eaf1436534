"""The exact uv/pip command lines of an install, and the rules that pick their options. Pure.

- Package sources: the `index_url`, `extra_index_urls` and `find_links` settings are passed to
  every command. `find_links` alone (no index configured) means an air-gapped wheelhouse:
  ``--no-index``, so nothing ever reaches out to PyPI.
- Torch: the installer picks one index for the torch family (services/torch_source.py);
  `torch_index_args` makes it the family's only source (uv: first extra index, so uv's
  first-index strategy takes the family from it; pip: the only index). Without one, the torch
  family comes from the configured sources; when a wheelhouse holds several builds,
  `pick_torch_version` pins the one whose local label matches the backend. Node installs
  still pass ``--torch-backend`` (uv's own PyTorch routing) when no sources are configured.
- Old tags: uv resolves ``--exclude-newer <tag date + 1 day>`` for tags older than the
  `exclude_newer_after_days` setting; when that is not in effect, `KNOWN_MISSING` adds the
  packages old tags forgot to declare.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from comfy_tui.core.url_secrets import has_url_secret

__all__ = [
    "KNOWN_MISSING",
    "TORCH_FAMILY",
    "Sources",
    "constraints_text",
    "exclude_newer_date",
    "is_pinned_package",
    "known_missing",
    "local_label",
    "pick_torch_version",
    "pip_install_argv",
    "pip_venv_argv",
    "recordable_index",
    "torch_index_args",
    "uv_freeze_argv",
    "uv_install_argv",
    "uv_sync_argv",
    "uv_venv_argv",
]

TORCH_FAMILY = ("torch", "torchvision", "torchaudio")
PINNED_PREFIXES = ("nvidia-", "cuda-")
PINNED_EXTRA = frozenset({"triton", "pytorch-triton", "pytorch-triton-rocm"})
PIP_RETRIES = "1"
PIP_TIMEOUT = "15"

KNOWN_MISSING: tuple[tuple[tuple[int, ...], tuple[str, ...]], ...] = (
    # (first version that declares them, packages): v0.3.64 and v0.3.77 import `requests`
    # without listing it; transformers 5.x stopped bringing it (verified, see the notes).
    ((0, 4, 0), ("requests",)),
)


@dataclass(frozen=True)
class Sources:
    """Where packages come from, straight from the settings."""

    index_url: str | None = None
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()

    @property
    def configured(self) -> bool:
        """True when the user named any source (then torch comes from them too)."""
        return bool(self.index_url or self.extra_index_urls or self.find_links)

    @property
    def air_gapped(self) -> bool:
        """A wheelhouse and no index at all: install with ``--no-index``."""
        return bool(self.find_links) and not self.index_url and not self.extra_index_urls

    def local_dirs(self) -> list[Path]:
        """The find_links entries that are local folders (file:// URLs or plain paths)."""
        return [Path(p) for p in (_local_path(f) for f in self.find_links) if p]

    def args(self) -> list[str]:
        out: list[str] = []
        if self.air_gapped:
            out.append("--no-index")
        elif self.index_url:
            out += ["--index-url", self.index_url]
        for url in self.extra_index_urls:
            out += ["--extra-index-url", url]
        for link in self.find_links:
            out += ["--find-links", _local_path(link) or link]
        return out


def _local_path(link: str) -> str | None:
    parts = urllib.parse.urlsplit(link)
    if parts.scheme == "file":
        return urllib.parse.unquote(parts.path)
    if not parts.scheme and link.startswith("/"):
        return link
    return None


# --------------------------------------------------------------------------- versions


def _release(version: str) -> tuple[int, ...]:
    match = re.match(r"[vV]?(\d+(?:\.\d+)*)", version)
    if not match:
        return ()
    return tuple(int(p) for p in match.group(1).split("."))


def local_label(version: str) -> str:
    """The PEP 440 local label: "cpu" of "2.5.1+cpu", "" when there is none."""
    return version.partition("+")[2].lower()


_WHEEL = re.compile(r"(?P<name>[A-Za-z0-9_.]+)-(?P<version>[^-]+)-.+\.whl", re.ASCII)


def pick_torch_version(wheel_names: Iterable[str], backend: str) -> str | None:
    """The highest torch version among `wheel_names` built for `backend`, or None."""
    best: tuple[tuple[int, ...], str] | None = None
    for name in wheel_names:
        match = _WHEEL.fullmatch(urllib.parse.unquote(name))
        if not match or match.group("name").lower() != "torch":
            continue
        version = match.group("version")
        if local_label(version) != backend.lower():
            continue
        key = (_release(version), version)
        if best is None or key > best:
            best = key
    return best[1] if best else None


def is_pinned_package(name: str) -> bool:
    """The torch family and the CUDA/ROCm runtime packages that come with a torch build."""
    name = name.lower().replace("_", "-")
    return name in TORCH_FAMILY or name.startswith(PINNED_PREFIXES) or name in PINNED_EXTRA


def constraints_text(installed: Mapping[str, str]) -> str:
    """A constraints file pinning the installed torch family exactly (local label included),
    and with it the CUDA runtime (nvidia-*) and triton packages that build brought."""
    lines = ["# written by comfy-tui: keeps the torch build chosen at install time"]
    lines += [f"{name}=={installed[name]}" for name in TORCH_FAMILY if installed.get(name)]
    lines += [
        f"{name}=={version}"
        for name, version in sorted(installed.items())
        if version and name not in TORCH_FAMILY and is_pinned_package(name)
    ]
    return "\n".join(lines) + "\n"


def exclude_newer_date(
    tag_date: datetime | None, now: datetime, after_days: int
) -> datetime | None:
    """The cut-off for uv's --exclude-newer: the tag date + 1 day, for tags older than
    `after_days` days (0 turns the rule off), else None."""
    if tag_date is None or after_days <= 0:
        return None
    if now - tag_date < timedelta(days=after_days):
        return None
    return tag_date + timedelta(days=1)


def known_missing(tag: str) -> tuple[str, ...]:
    """Packages a tag needs but does not declare (used when no date cut-off applies)."""
    release = _release(tag)
    if not release:
        return ()
    extra: list[str] = []
    for fixed_in, packages in KNOWN_MISSING:
        if release < fixed_in:
            extra += packages
    return tuple(extra)


def _rfc3339(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- command lines


def uv_venv_argv(uv: str, python: str, venv: Path) -> list[str]:
    return [uv, "venv", "--no-config", "--relocatable", "--python", python, str(venv)]


def pip_venv_argv(python: str, venv: Path) -> list[str]:
    return [python, "-m", "venv", str(venv)]


def _targets(
    packages: Iterable[str], requirements: Path | None, constraints: Path | None
) -> list[str]:
    out = list(packages)
    if requirements is not None:
        out += ["-r", str(requirements)]
    if constraints is not None:
        out += ["-c", str(constraints)]
    return out


def uv_install_argv(
    uv: str,
    venv_python: Path,
    cache: Path,
    sources: Sources,
    *,
    packages: Iterable[str] = (),
    requirements: Path | None = None,
    constraints: Path | None = None,
    torch_backend: str | None = None,
    exclude_newer: datetime | None = None,
    exempt: Iterable[str] = (),
    dry_run: bool = False,
    compile_bytecode: bool = True,
    index_args: list[str] | None = None,
) -> list[str]:
    """`uv pip install` into the venv: shared cache, hardlinks, byte-compiled.

    With `dry_run` uv only resolves and prints what would change (`` + name==1.0`` lines).
    `exempt` names packages the ``--exclude-newer`` cut-off does not apply to (their index
    gives no upload time). `index_args` replaces the sources' own index options.
    """
    argv = _uv_pip("install", uv, venv_python, cache, sources, torch_backend, index_args)
    if not compile_bytecode:
        argv.remove("--compile-bytecode")
    if exclude_newer is not None:
        argv += ["--exclude-newer", _rfc3339(exclude_newer)]
        for name in exempt:
            argv += ["--exclude-newer-package", f"{name}=false"]
    if dry_run:
        argv.append("--dry-run")
    return argv + _targets(packages, requirements, constraints)


def _uv_pip(
    command: str,
    uv: str,
    venv_python: Path,
    cache: Path,
    sources: Sources,
    torch_backend: str | None,
    index_args: list[str] | None = None,
) -> list[str]:
    argv = [uv, "pip", command, "--no-config", "--python", str(venv_python)]
    argv += ["--cache-dir", str(cache), "--link-mode", "hardlink", "--compile-bytecode"]
    if index_args is not None:
        return argv + index_args
    argv += sources.args()
    if torch_backend and torch_backend != "none" and not sources.configured:
        argv += ["--torch-backend", torch_backend]
    return argv


def recordable_index(url: str | None) -> str:
    """The torch index a version records, to reuse for its custom nodes: "" when torch came
    from the configured sources, or when the URL carries a credential (not stored in clear)."""
    return url if url and not has_url_secret(url) else ""


def torch_index_args(sources: Sources, url: str, installer: str) -> list[str]:
    """Index options that take the torch family from `url` and nothing else from elsewhere.

    uv: `url` as the first extra index (uv's default first-index strategy then takes every
    package it holds from it: one source for the family) with the configured sources behind it
    for torch's plain dependencies. pip merges indexes, so it gets `url` alone.
    """
    if installer != "uv":
        return ["--index-url", url]
    if sources.air_gapped:
        return ["--index-url", url, *sources.args()[1:]]
    return ["--extra-index-url", url, *sources.args()]


def uv_sync_argv(
    uv: str,
    venv_python: Path,
    cache: Path,
    sources: Sources,
    requirements: Path,
    *,
    torch_backend: str | None = None,
    dry_run: bool = False,
    index_args: list[str] | None = None,
) -> list[str]:
    """`uv pip sync`: make the venv hold exactly the packages of `requirements` (a freeze list).

    `index_args` replaces the sources' own index options."""
    argv = _uv_pip("sync", uv, venv_python, cache, sources, torch_backend, index_args)
    if dry_run:
        argv.append("--dry-run")
    return [*argv, "--allow-empty-requirements", str(requirements)]


def uv_freeze_argv(uv: str, venv_python: Path) -> list[str]:
    """`uv pip freeze`: the venv's exact package list, one ``name==version`` a line."""
    return [uv, "pip", "freeze", "--no-config", "--python", str(venv_python)]


def pip_install_argv(
    venv_python: Path,
    cache: Path,
    sources: Sources,
    *,
    packages: Iterable[str] = (),
    requirements: Path | None = None,
    constraints: Path | None = None,
    index_args: list[str] | None = None,
) -> list[str]:
    """`python -m pip install` in the venv; few retries so an unreachable index fails fast.

    `index_args` (see `torch_index_args`) replaces the sources' own index options.
    """
    argv = [str(venv_python), "-m", "pip", "install", "--disable-pip-version-check"]
    argv += ["--no-input", "--progress-bar", "off", "--retries", PIP_RETRIES]
    argv += ["--timeout", PIP_TIMEOUT, "--cache-dir", str(cache)]
    argv += sources.args() if index_args is None else index_args
    return argv + _targets(packages, requirements, constraints)

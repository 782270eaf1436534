"""Adopt an existing ComfyUI folder as a version, left where it is.

`find_layout` (file checks only) finds the checkout (the folder with `main.py`, or its
`ComfyUI/` sub-folder as in a portable folder) and its interpreter: `--venv PATH`, else
`.venv/` or `venv/` in the checkout or the folder given (a plain clone, a comfy-cli
workspace), else `python_embeded/` (a portable folder). `adopt` then asks that interpreter
for its Python and torch versions (package metadata only: torch is not imported) and
`main.py --help` for the flags, and writes a version record whose `adopted` field names the
folder. Nothing in the folder is written; `VersionsService.remove` only forgets such a version.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from comfy_tui.core.install_progress import parse_comfyui_version, parse_help_flags
from comfy_tui.errors import InstallError, ProcessError, ValidationError
from comfy_tui.paths import DataPaths
from comfy_tui.services.flock import AsyncFileLock
from comfy_tui.services.proc import run_capture
from comfy_tui.store import version_records
from comfy_tui.store.version_records import VersionRecord
from comfy_tui.validate import validate_tag

__all__ = ["AdoptLayout", "adopt", "default_name", "find_layout"]

ENV_DIRS = (".venv", "venv")
PORTABLE_ENV = "python_embeded"  # sic: the portable build's folder name
_FACTS = (
    "import importlib.metadata as m, json, sys\n"
    "def v(n):\n"
    "    try:\n"
    "        return m.version(n)\n"
    "    except m.PackageNotFoundError:\n"
    "        return ''\n"
    "print(json.dumps({'python': '%d.%d.%d' % sys.version_info[:3], 'torch': v('torch')}))\n"
)
_BACKEND = re.compile(r"\+(cu\d+|cpu|rocm[\d.]+|xpu)$")


@dataclass(frozen=True)
class AdoptLayout:
    """Where an existing ComfyUI lives: `root` as given, its checkout and interpreter."""

    root: Path
    checkout: Path  # the folder holding main.py
    python: Path
    kind: str  # "venv/", ".venv/", "python_embeded/ (portable)", "--venv"


def _interpreter(env: Path) -> Path | None:
    for candidate in (env / "bin" / "python", env / "bin" / "python3", env / "python"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def find_layout(path: Path, venv: Path | None, paths: DataPaths) -> AdoptLayout:
    """Check `path` (and `venv`) without running anything; ValidationError, one line."""
    if not path.exists():
        raise ValidationError(f"{path} does not exist")
    if not path.is_dir():
        raise ValidationError(f"{path} is not a folder")
    root = path.resolve()
    if (root / "main.py").is_file():
        checkout = root
    elif (root / "ComfyUI" / "main.py").is_file():
        checkout = root / "ComfyUI"
    else:
        raise ValidationError(f"{root} is not a ComfyUI folder: it has no main.py (nor ComfyUI/)")
    managed = paths.versions_dir().resolve()
    if checkout.is_relative_to(managed):
        raise ValidationError(f"{checkout} is a version comfy-tui installed already")
    if venv is not None:
        if not venv.is_dir():
            raise ValidationError(f"--venv {venv} is not a folder")
        python = _interpreter(venv.resolve())
        if python is None:
            raise ValidationError(f"--venv {venv} has no bin/python")
        return AdoptLayout(root, checkout, python, "--venv")
    places = [checkout / name for name in ENV_DIRS]
    if root != checkout:
        places += [root / name for name in ENV_DIRS]
    places.append(root / PORTABLE_ENV)
    for place in places:
        python = _interpreter(place) if place.is_dir() else None
        if python is not None:
            kind = f"{place.name}/" + (" (portable)" if place.name == PORTABLE_ENV else "")
            return AdoptLayout(root, checkout, python, kind)
    raise ValidationError(
        f"no Python environment in {root} (looked for .venv/, venv/, {PORTABLE_ENV}/): "
        "give it with --venv PATH"
    )


def default_name(version: str, taken: set[str]) -> str:
    """`adopted-<ComfyUI version>` (or `adopted`), with `-2`, `-3` ... when taken."""
    base = f"adopted-{version}" if version else "adopted"
    base = re.sub(r"[^A-Za-z0-9._+-]", "-", base)
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}-{n}"
    return name


def backend_of(torch_version: str) -> str:
    """The build label of a torch version (`2.5.1+cu128` → `cu128`), "" when unlabelled."""
    match = _BACKEND.search(torch_version)
    return match.group(1) if match else ""


async def _facts(layout: AdoptLayout) -> dict[str, str]:
    try:
        run = await run_capture([str(layout.python), "-c", _FACTS], timeout=60)
    except ProcessError as exc:
        raise ValidationError(f"{layout.python} does not run: {exc}") from None
    try:
        facts = json.loads(run.stdout.strip().splitlines()[-1]) if run.returncode == 0 else None
    except (ValueError, IndexError):
        facts = None
    if not isinstance(facts, dict):
        last = (run.stderr.strip().splitlines() or ["no output"])[-1]
        raise ValidationError(f"{layout.python} does not run: {last}")
    return {str(k): str(v) for k, v in facts.items()}


async def _flags(layout: AdoptLayout) -> tuple[str, ...]:
    run = await run_capture(
        [str(layout.python), "main.py", "--help"], cwd=layout.checkout, timeout=120
    )
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or run.stdout.strip().splitlines() or ["?"])[-1]
        raise InstallError(
            f"ComfyUI in {layout.checkout} does not start with {layout.python}: "
            f"main.py --help failed (exit {run.returncode}): {last}"
        )
    return parse_help_flags(run.stdout)


async def _commit(checkout: Path) -> str:
    if not (checkout / ".git").exists():
        return ""
    run = await run_capture(["git", "-C", str(checkout), "rev-parse", "HEAD"], timeout=30)
    return run.stdout.strip() if run.returncode == 0 else ""


def _read_version(checkout: Path) -> str:
    try:
        return parse_comfyui_version((checkout / "comfyui_version.py").read_text("utf-8"))
    except (OSError, UnicodeDecodeError):
        return ""


async def adopt(
    paths: DataPaths, path: Path, *, name: str | None = None, venv: Path | None = None
) -> VersionRecord:
    """Make the ComfyUI at `path` a version named `name` and return its record.

    Raises ValidationError (not a ComfyUI folder, no environment, the name or folder is
    taken), InstallError (its main.py does not start) or LockBusyError; nothing is written
    then.
    """
    if name is not None:
        name = validate_tag(name)
    layout = await asyncio.to_thread(find_layout, path, venv, paths)
    records = await asyncio.to_thread(version_records.list_records, paths)
    for other in records:
        if other.adopted and Path(other.path) == layout.checkout:
            raise ValidationError(f"{layout.checkout} is adopted already, as {other.tag}")
    version = await asyncio.to_thread(_read_version, layout.checkout)
    if name is None:
        name = default_name(version, {r.tag for r in records})
    elif any(r.tag == name for r in records):
        raise ValidationError(f"a version named {name} exists already: choose another --name")
    facts = await _facts(layout)
    flags = await _flags(layout)
    commit = await _commit(layout.checkout)
    busy = f"{name} is being installed right now: choose another --name"
    async with AsyncFileLock(paths.install_lock(name), timeout=0, busy=busy):
        if await asyncio.to_thread(version_records.load_record, paths, name):
            raise ValidationError(f"a version named {name} exists already: choose another --name")
        record = VersionRecord(
            tag=name,
            path=str(layout.checkout),
            python=str(layout.python),
            commit=commit,
            comfyui_version=version,
            python_version=facts.get("python", ""),
            torch_version=facts.get("torch", ""),
            torch_backend=backend_of(facts.get("torch", "")),
            installer=f"adopted ({layout.kind})",
            installed_at=time.time(),
            flags=flags,
            adopted=str(layout.root),
        )
        await asyncio.to_thread(version_records.save_record, paths, record)
    return record

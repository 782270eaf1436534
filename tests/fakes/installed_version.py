"""An "installed version" without the installer: the fake ComfyUI copied into a data dir.

`install_fake_version(paths, "v0.3.77")` copies tests/fakes/comfyui/* into `versions/<tag>/`,
reads the flags its `main.py --help` lists, and saves a VersionRecord whose interpreter is the
one running the tests. `flags=` narrows what the version accepts (it rewrites
fake_features.py, so `main.py` really rejects the others with exit 2).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from comfy_tui.paths import DataPaths
from comfy_tui.store.version_records import VersionRecord, save_record, set_default

FAKE_SOURCE = Path(__file__).resolve().parent / "comfyui"
_FLAG = re.compile(r"(?<![\w-])(--[a-z0-9][a-z0-9-]*)")


def help_flags(main_py: Path) -> tuple[str, ...]:
    """Every long option `python main.py --help` prints."""
    result = subprocess.run(
        [sys.executable, str(main_py), "--help"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return tuple(sorted(set(_FLAG.findall(result.stdout)) - {"--help"}))


def install_fake_version(
    paths: DataPaths,
    tag: str = "v0.3.77",
    *,
    flags: Sequence[str] | None = None,
    default: bool = True,
) -> VersionRecord:
    target = paths.version_dir(tag)
    shutil.copytree(
        FAKE_SOURCE, target, ignore=shutil.ignore_patterns("__pycache__"), dirs_exist_ok=True
    )
    if flags is not None:
        (target / "fake_features.py").write_text(f"FLAGS = {list(flags)!r}\n")
    (target / "custom_nodes").mkdir(exist_ok=True)
    record = VersionRecord(
        tag=tag,
        path=str(target),
        python=sys.executable,
        comfyui_version=tag.lstrip("v"),
        flags=help_flags(target / "main.py"),
    )
    save_record(paths, record)
    if default:
        set_default(paths, tag)
    return record

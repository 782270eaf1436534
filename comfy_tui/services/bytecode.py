"""Byte code for a new version without compiling 12,000 files: reuse what other versions have.

uv does not byte-compile, and a ComfyUI without ``.pyc`` files starts in about 18 s instead of 8.
`prepare_bytecode` runs `BYTECODE_SCRIPT` with the new version's own Python (its cache tag and
magic number are the ones that count), which:

1. **site-packages**: uv hardlinks every installed file from its cache, so a file another
   version also holds is the same inode. Its ``.pyc`` there (timestamp-checked against that
   inode's mtime and size, hence valid here too) is hardlinked into the new venv.
2. **ComfyUI's own files** (a fresh checkout, new inodes): compiled in "checked-hash" mode
   (PEP 552: valid for any file with that content), so a file whose content another version
   holds gets that version's ``.pyc`` hardlinked; the rest is compiled in parallel workers.

What neither covers (packages new to this version) is compiled by the smoke test itself: it
imports exactly what a ComfyUI start imports, with byte-code writing on. Progress lines
("progress DONE TOTAL LINKED") come at least every half second.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import aclosing
from pathlib import Path

from comfy_tui.errors import InstallError
from comfy_tui.events import Event, LogLine, Progress
from comfy_tui.services.proc import ChildProcess

__all__ = ["BYTECODE_SCRIPT", "prepare_bytecode", "site_packages"]

BYTECODE_SCRIPT = r"""
import hashlib, importlib.util, json, os, py_compile, sys, time

cfg = json.loads(sys.argv[1])
SKIP = {"__pycache__", ".git", ".venv", "custom_nodes", "node_modules"}
last = [0.0]
SUFFIX = "." + sys.implementation.cache_tag + ".pyc"

def report(done, total, linked, force=False):
    now = time.monotonic()
    if force or now - last[0] >= 0.4:
        last[0] = now
        sys.stdout.write(f"progress {done} {total} {linked}\n")
        sys.stdout.flush()

def scan(root):
    # (path, inode) of every .py under root: readdir gives the inode, no stat needed
    stack = [root]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            if entry.name.endswith(".py") and entry.is_file(follow_symlinks=False):
                yield entry.path, entry.inode()
            elif entry.name not in SKIP and entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)

def walk(root):
    for path, _ in scan(root):
        yield path

def device(path):
    try:
        return os.stat(path).st_dev
    except OSError:
        return None

def cache(path):
    return importlib.util.cache_from_source(path)

def link(src, dst):
    try:
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        os.link(src, dst)
        return True
    except OSError:
        return False

def hashed_pyc(path):
    try:
        with open(path, "rb") as fh:
            head = fh.read(8)
        return len(head) == 8 and int.from_bytes(head[4:8], "little") & 1 == 1
    except OSError:
        return False

def digest(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()

def compile_one(path):
    try:
        py_compile.compile(path, cfile=cache(path), doraise=True, quiet=2,
                           invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH)
        return True
    except Exception:
        return False

def main():
    site = [item for d in cfg["site"] for item in scan(d)]
    code = list(walk(cfg["checkout"]))
    total = len(site) + len(code)
    done = linked = 0
    report(0, total, 0, True)
    by_inode = {}
    here = {device(d) for d in cfg["site"]}
    for other in cfg["other_site"]:
        if device(other) in here:  # a hardlink never crosses file systems
            for path, inode in scan(other):
                by_inode.setdefault(inode, path)
    made = set()
    for path, inode in site:
        done += 1
        other = by_inode.get(inode)
        if other is not None:
            folder, name = os.path.split(path)
            target = os.path.join(folder, "__pycache__", name[:-3] + SUFFIX)
            ofolder, oname = os.path.split(other)
            source = os.path.join(ofolder, "__pycache__", oname[:-3] + SUFFIX)
            try:
                if folder not in made:
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    made.add(folder)
                os.link(source, target)
                linked += 1
            except OSError:
                pass
        report(done, total, linked)
    by_hash = {}
    for other in cfg["other_checkouts"]:
        for path in walk(other):
            pyc = cache(path)
            if hashed_pyc(pyc):
                by_hash.setdefault(digest(path), pyc)
    todo = []
    for path in code:
        other = by_hash.get(digest(path)) if by_hash else None
        if other is not None and link(other, cache(path)):
            linked += 1
            done += 1
        else:
            todo.append(path)
        report(done, total, linked)
    if len(todo) > 64 and cfg["workers"] > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=cfg["workers"]) as pool:
            for _ in pool.map(compile_one, todo, chunksize=8):
                done += 1
                report(done, total, linked)
    else:  # a few files: not worth starting workers
        for path in todo:
            compile_one(path)
            done += 1
            report(done, total, linked)
    report(total, total, linked, True)
    sys.stdout.write(
        "summary " + json.dumps({"total": total, "linked": linked, "compiled": len(todo)}) + "\n"
    )

if __name__ == "__main__":
    main()
"""


def site_packages(venv: Path) -> list[Path]:
    """The venv's site-packages folder(s)."""
    return sorted(venv.glob("lib/python*/site-packages"))


async def prepare_bytecode(
    python: Path,
    venv: Path,
    checkout: Path,
    others: Sequence[Path],
    env: Mapping[str, str],
    *,
    workers: int | None = None,
) -> AsyncGenerator[Event, None]:
    """Link and compile byte code for the version at `checkout` (venv `venv`), reusing the
    ``.pyc`` files of the installed versions `others` (their folders). Yields Progress
    (0..1 of this step, "compiled n/N, m reused") and a summary LogLine."""
    config = {
        "site": [str(p) for p in site_packages(venv)],
        "checkout": str(checkout),
        "other_site": [str(p) for o in others for p in site_packages(o / ".venv")],
        "other_checkouts": [str(o) for o in others],
        "workers": workers or max(1, os.cpu_count() or 1),
    }
    script = checkout / ".comfy-tui-bytecode.py"
    script.write_text(BYTECODE_SCRIPT, encoding="utf-8")
    child = ChildProcess([str(python), str(script), json.dumps(config)], env=env, cwd=checkout)
    try:
        async with aclosing(child.lines()) as lines:
            async for line in lines:
                parts = line.split()
                if parts[:1] == ["progress"] and len(parts) == 4:
                    done, total, linked = (int(p) for p in parts[1:])
                    yield Progress(
                        "compile",
                        done / total if total else 1.0,
                        detail=f"byte code {done}/{total} files ({linked} reused)",
                    )
                elif line.startswith("summary "):
                    facts = json.loads(line.removeprefix("summary "))
                    yield LogLine(
                        f"byte code: {facts['linked']} of {facts['total']} files reused from "
                        f"other versions, {facts['compiled']} compiled; the smoke test "
                        "compiles what start-up imports of the rest",
                        "comfy-tui",
                    )
                else:
                    yield LogLine(line, "compile")
    finally:
        script.unlink(missing_ok=True)
    if child.returncode != 0:
        raise InstallError(f"byte-compiling failed: {child.last_line() or child.returncode}")

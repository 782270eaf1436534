"""The tags of a local git repository (the ComfyUI mirror), with dates: the offline release list.

`git for-each-ref refs/tags` with each tag's creator date (the tagger's date for an annotated
tag, the commit's for a lightweight one). Runs git as an async subprocess with no prompt; the
child is killed if the caller is cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

from comfy_tui.services.childenv import child_environ
from comfy_tui.services.release_list import Release, make_release

log = logging.getLogger(__name__)

GIT_TIMEOUT = 20.0
_FORMAT = "%(refname:strip=2)%09%(creatordate:iso-strict)"


def is_git_repo(path: Path) -> bool:
    """True for a bare repository or a work tree (cheap check, no subprocess)."""
    return (path / "HEAD").is_file() or (path / ".git").exists()


async def mirror_tags(repo: Path, *, git: str = "git") -> list[Release] | None:
    """The repository's tags as Releases (unordered), or None when it is missing or unreadable."""
    if not is_git_repo(repo):
        return None
    env = child_environ(extra={"GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"})
    try:
        process = await asyncio.create_subprocess_exec(
            git,
            "-C",
            str(repo),
            "for-each-ref",
            f"--format={_FORMAT}",
            "refs/tags",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
    except OSError as exc:
        log.warning("cannot run git to list the tags of %s: %s", repo, exc)
        return None
    try:
        async with asyncio.timeout(GIT_TIMEOUT):  # not wait_for: on 3.11 it can lose a Ctrl-C
            stdout, stderr = await process.communicate()
    except TimeoutError:
        log.warning("git for-each-ref in %s took longer than %g s", repo, GIT_TIMEOUT)
        return None
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    if process.returncode != 0:
        message = stderr.decode("utf-8", "replace").strip().splitlines()
        log.warning("git for-each-ref in %s failed: %s", repo, message[-1] if message else "")
        return None
    releases = []
    for line in stdout.decode("utf-8", "replace").splitlines():
        tag, _, date = line.partition("\t")
        release = make_release(tag, published_at=date, origin=f"the tags of {repo}")
        if release is not None:
            releases.append(release)
    return releases

"""git on one custom node checkout: clone, fetch, fast-forward, pin a commit, read its state.

A node is a full clone (not shallow: pinning and restoring need any commit). Clones build in
`nodes/.partial-<name>-<hex>/` and are renamed into place when complete; removals rename the
checkout to `nodes/.removing-<name>-<hex>/` before deleting it. git never prompts.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import shutil
from collections.abc import AsyncGenerator, Mapping
from pathlib import Path

from comfy_tui.errors import InstallError, NetworkError, NotFoundError
from comfy_tui.events import Event, LogLine, Step, forwards
from comfy_tui.services.git import GitFailed, git_env, stream_git, token_env
from comfy_tui.services.proc import run_capture

log = logging.getLogger(__name__)

__all__ = ["NodeCheckout", "partial_dir", "remove_stale", "remove_tree", "removing_dir"]

_TEMP = re.compile(r"\.(?:partial|removing)-.+-[0-9a-f]{8}")


def partial_dir(nodes_dir: Path, name: str) -> Path:
    return nodes_dir / f".partial-{name}-{secrets.token_hex(4)}"


def removing_dir(nodes_dir: Path, name: str) -> Path:
    return nodes_dir / f".removing-{name}-{secrets.token_hex(4)}"


def remove_stale(nodes_dir: Path) -> list[Path]:
    """Delete what crashed clones and removals left (call with the node's lock held)."""
    removed = []
    for entry in sorted(nodes_dir.iterdir()):
        if _TEMP.fullmatch(entry.name) and entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry)
    return removed


class NodeCheckout:
    """The git checkout at `path` (it may not exist yet)."""

    def __init__(self, path: Path, *, env: Mapping[str, str] | None = None) -> None:
        self.path = path
        self.env = git_env(env)

    def exists(self) -> bool:
        return (self.path / ".git").exists()

    async def _git(self, *args: str, timeout: float = 120) -> tuple[int, str, str]:
        run = await run_capture(["git", "-C", str(self.path), *args], env=self.env, timeout=timeout)
        return run.returncode, run.stdout.strip(), run.stderr.strip()

    async def _must(self, *args: str, what: str) -> str:
        rc, out, err = await self._git(*args)
        if rc != 0:
            reason = (err.splitlines() or [f"git exited with {rc}"])[-1].removeprefix("fatal: ")
            raise InstallError(f"{what} failed: {reason}")
        return out

    # --- reading ----------------------------------------------------------------------
    async def head(self) -> str:
        """The checked-out commit ("" when there is none)."""
        if not self.exists():
            return ""
        rc, out, _ = await self._git("rev-parse", "--verify", "--quiet", "HEAD")
        return out if rc == 0 else ""

    async def branch(self) -> str:
        """The checked-out branch, "" when HEAD is detached (a pinned commit)."""
        rc, out, _ = await self._git("symbolic-ref", "--quiet", "--short", "HEAD")
        return out if rc == 0 else ""

    async def remote_default_branch(self) -> str:
        rc, out, _ = await self._git(
            "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"
        )
        return out.removeprefix("origin/") if rc == 0 else ""

    async def is_dirty(self) -> bool:
        """True when tracked files were changed (untracked files such as __pycache__ are fine)."""
        rc, out, _ = await self._git("status", "--porcelain", "--untracked-files=no")
        return rc != 0 or bool(out)

    async def resolve(self, ref: str) -> str:
        """The full commit `ref` names here, "" when it is unknown."""
        rc, out, _ = await self._git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        return out if rc == 0 else ""

    # --- changing ---------------------------------------------------------------------
    def clone(
        self, source: str, dest: Path, *, token: str | None = None
    ) -> AsyncGenerator[Event, None]:
        """Clone `source` into `dest` (which must not exist); a GitHub `token` goes only to
        github.com, in this one git's environment (`token_env`)."""
        return self._clone(source, dest, token)

    @forwards
    async def _clone(
        self, source: str, dest: Path, token: str | None
    ) -> AsyncGenerator[Step, None]:
        argv = ["git", "-c", "advice.detachedHead=false", "clone", "--progress", source, str(dest)]
        env = {**self.env, **token_env(source, token)}
        yield LogLine(f"cloning {source}", "git")
        try:
            yield stream_git(argv, env, "cloning")
        except GitFailed as exc:
            raise NetworkError(f"cannot clone {source}: {exc}") from None

    @forwards
    async def fetch(self, source: str, *, token: str | None = None) -> AsyncGenerator[Step, None]:
        """Point origin at `source` and fetch its branches and tags (`token` as in `clone`)."""
        await self._must("remote", "set-url", "origin", source, what="setting the remote")
        argv = ["git", "-C", str(self.path), "fetch", "--tags", "--prune", "--progress", "origin"]
        yield LogLine(f"fetching {source}", "git")
        try:
            env = {**self.env, **token_env(source, token)}
            yield stream_git(argv, env, "fetching", step="fetch")
        except GitFailed as exc:
            raise NetworkError(f"cannot fetch {source}: {exc}") from None

    async def fast_forward(self, branch: str) -> None:
        """Check out `branch` and move it to origin's (refused when they have diverged)."""
        if await self.branch() != branch:
            await self._must("checkout", "-q", branch, what=f"checking out {branch}")
        upstream = f"origin/{branch}"
        if not await self.resolve(upstream):
            raise NotFoundError(f"the remote has no branch {branch}")
        rc, _, err = await self._git("merge", "--ff-only", "-q", upstream)
        if rc != 0:
            raise InstallError(
                f"cannot fast-forward {branch} to {upstream}: the checkout has commits of its "
                f"own ({(err.splitlines() or ['diverged'])[-1]})"
            )

    async def take_over(self, commit: str, origin: str) -> None:
        """A clone of a local checkout: detach at `commit` if HEAD is elsewhere, and point
        origin at the node's real source."""
        if await self.head() != commit:
            await self.checkout_commit(commit)
        await self._must("remote", "set-url", "origin", origin, what="setting the remote")

    async def checkout_commit(self, commit: str) -> None:
        """Detach HEAD at `commit` (a pinned node)."""
        await self._must(
            "-c", "advice.detachedHead=false", "checkout", "-q", "--detach", commit,
            what=f"checking out {commit[:12]}",
        )  # fmt: skip


async def remove_tree(path: Path) -> None:
    """Delete a folder tree in a thread; one that is already gone is fine."""
    await asyncio.to_thread(shutil.rmtree, path, True)

"""The shared ComfyUI mirror asked for any ref: a tag, a branch or a commit id.

`RefMirror` is a `GitMirror` that resolves a ref to one commit (`resolve`), fetches when the
ref may have moved (a branch, always; a tag or commit, only when the mirror lacks it) and checks
a version out at that exact commit (one commit deep: ``git init`` + ``fetch --depth 1 <sha>``
from the mirror). It keeps the installer's interface (`ensure_tag`, `checkout`, `tag_date`)
so an install of a ref runs the same steps as an install of a tag; `newer_releases` tells
which release tags of the mirror a commit does not contain yet.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from comfy_tui.core.refs import RefKind, is_commit_id, validate_ref
from comfy_tui.core.versions import parse_version, sort_newest_first
from comfy_tui.errors import InstallError, NotFoundError
from comfy_tui.events import Step, forwards
from comfy_tui.services.flock import AsyncFileLock
from comfy_tui.services.git import GitFailed, GitMirror

__all__ = ["RefMirror", "Resolved"]


@dataclass(frozen=True)
class Resolved:
    """One ref, pinned: what the user said, what it is, and the commit it names now."""

    ref: str
    kind: RefKind
    commit: str


class RefMirror(GitMirror):
    """The mirror of `url` at `path`; `ref` is what `ensure_tag`/`checkout` work on."""

    def __init__(
        self,
        url: str,
        path: Path,
        ref: str | None = None,
        *,
        pin: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        """`pin`: the commit `ref` was already resolved to (no fetch when the mirror has it)."""
        super().__init__(url, path, env=env)
        self.ref = validate_ref(ref) if ref is not None else None
        self.pin = pin
        self.resolved: Resolved | None = None

    # --- resolving ---------------------------------------------------------------------------
    async def _commit(self, name: str) -> str:
        rc, out = await self._git(
            "-C", str(self.path), "rev-parse", "--verify", "--quiet", f"{name}^{{commit}}"
        )
        return out.strip() if rc == 0 else ""

    async def lookup(self, ref: str) -> Resolved | None:
        """What `ref` names in the mirror now (no fetch), or None."""
        ref = validate_ref(ref)
        if not self.exists():
            return None
        for kind, name in (("tag", f"refs/tags/{ref}"), ("branch", f"refs/heads/{ref}")):
            commit = await self._commit(name)
            if commit:
                return Resolved(ref, kind, commit)  # type: ignore[arg-type]
        if is_commit_id(ref):
            commit = await self._commit(ref)
            if commit:
                return Resolved(ref, "commit", commit)
        return None

    @forwards
    async def update(self, ref: str, *, always: bool = False) -> AsyncGenerator[Step, None]:
        """Clone the mirror when missing; fetch when `ref` is missing, a branch, or `always`.
        `self.resolved` is set afterwards; NotFoundError when the repository has no `ref`."""
        ref = validate_ref(ref)
        async with AsyncFileLock(self.lock_file):
            self._remove_partials()
            if not self.exists():
                yield self._clone()
            else:
                found = await self.lookup(ref)
                if always or found is None or found.kind == "branch":
                    yield self._fetch()
            found = await self.lookup(ref)
        if found is None:
            raise NotFoundError(
                f"ComfyUI has no tag, branch or commit {ref} (looked in {self.url})"
            )
        self.resolved = found

    # --- the installer's interface ---------------------------------------------------------
    @forwards
    async def ensure_tag(self, tag: str) -> AsyncGenerator[Step, None]:
        """The installer's clone step: `tag` is the version's name; the ref is `self.ref`."""
        if self.pin and self.ref and self.exists() and await self._commit(self.pin):
            found = await self.lookup(self.ref)
            self.resolved = Resolved(self.ref, found.kind if found else "commit", self.pin)
            return
        yield self.update(self.ref or tag)

    @forwards
    async def checkout(self, tag: str, dest: Path) -> AsyncGenerator[Step, None]:
        """Check out the resolved commit into `dest` (missing or empty), detached, one commit."""
        if self.resolved is None:
            yield self.ensure_tag(tag)
        assert self.resolved is not None
        commit = self.resolved.commit
        dest.mkdir(parents=True, exist_ok=True)
        steps = [
            [self.git, "init", "-q", str(dest)],
            [self.git, "-C", str(dest), "fetch", "--depth", "1", "--progress"],
            [self.git, "-C", str(dest), "-c", "advice.detachedHead=false", "checkout", "-q"],
        ]
        steps[1] += [self.path.as_uri(), commit]
        steps[2] += ["--detach", commit]
        try:
            for argv in steps:
                what = f"checking out {self.resolved.ref} at {commit[:7]}"
                yield self._stream(argv, what)
        except GitFailed as exc:
            raise InstallError(f"cannot check out {commit[:7]} from the mirror: {exc}") from None
        exclude = dest / ".git" / "info" / "exclude"
        if exclude.parent.is_dir():
            with exclude.open("a", encoding="utf-8") as fh:
                fh.write("\n# comfy-tui\n/.venv/\n")

    async def tag_date(self, tag: str) -> datetime | None:
        """When the commit was made (a ref's age decides the dependency cut-off like a tag's)."""
        if self.resolved is None:
            return await super().tag_date(tag)
        rc, out = await self._git(
            "-C", str(self.path), "show", "-s", "--format=%ct", self.resolved.commit
        )
        text = out.strip()
        return datetime.fromtimestamp(int(text), tz=UTC) if rc == 0 and text.isdigit() else None

    # --- facts -------------------------------------------------------------------------------
    async def newer_releases(self, commit: str, floor: str = "") -> list[str]:
        """Release tags (no prereleases) newer than every release `commit` contains and than
        `floor` (the checkout's own ComfyUI version: a fork's branch may contain no release
        tag), newest first; [] when the commit is not in the mirror."""
        if not commit or not self.exists() or not await self._commit(commit):
            return []
        rc, out = await self._git("-C", str(self.path), "tag", "--no-merged", commit)
        if rc != 0:
            return []
        missing = {
            t: v for t in out.split() if (v := parse_version(t)) is not None and not v.is_prerelease
        }
        rc, out = await self._git("-C", str(self.path), "tag", "--merged", commit)
        have = [v for t in out.split() if (v := parse_version(t)) is not None] if rc == 0 else []
        own = parse_version(floor) if floor else None
        newest = max([*have, *([own] if own else [])], default=None)
        newer = [t for t, v in missing.items() if newest is None or v > newest]
        return sort_newest_first(newer)

"""`install REF [--name NAME]`: a release tag as before, or a branch / commit under a name.

The mirror is brought up to date for the ref first (cloned, or fetched when the ref is missing
or a branch), which tells what the ref is: a tag without `--name` installs exactly as `install
TAG` always did; anything else installs the resolved commit as `NAME`, by default
``<branch>-<short commit>`` or the short commit, through the same installer (staging, torch,
smoke test). The version's record keeps the ref (`ref`), so `update NAME` can follow a branch.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from comfy_tui.core.refs import default_name, short, validate_ref
from comfy_tui.events import LogLine, Step, forwards
from comfy_tui.services.lifecycle.refmirror import RefMirror
from comfy_tui.services.versions import VersionsService, validate_torch_index
from comfy_tui.validate import validate_tag

__all__ = ["RefInstall"]


@dataclass
class RefInstall:
    """One install of a ref; `name` is known once `events()` has resolved the ref."""

    versions: VersionsService
    ref: str
    name: str | None = None
    torch: str = "auto"
    torch_index: str | None = None
    python: str | None = None
    force: bool = False  # go on when the disk looks too small (`install --force`)

    def __post_init__(self) -> None:
        """Bad input is refused before anything runs (ValidationError, exit 2)."""
        self.ref = validate_ref(self.ref)
        if self.name is not None:
            self.name = validate_tag(self.name)
        self.versions.installer.check(self.name or "x", self.torch)
        if self.torch_index is not None:
            self.torch_index = validate_torch_index(self.torch_index)

    @forwards
    async def events(self) -> AsyncGenerator[Step, None]:
        settings, paths = self.versions.settings, self.versions.paths
        mirror = RefMirror(settings.comfyui_repo, paths.comfyui_mirror(), self.ref)
        await asyncio.to_thread(paths.versions_dir)  # made by every install, as before
        yield mirror.update(self.ref)
        found = mirror.resolved
        assert found is not None
        if found.kind == "tag" and self.name is None:
            self.name = validate_tag(found.ref)
            install = self.versions.install(
                self.name,
                self.torch,
                torch_index=self.torch_index,
                python=self.python,
                force=self.force,
            )
        else:
            self.name = self.name or default_name(found.ref, found.kind, found.commit)
            yield LogLine(
                f"installing {found.kind} {found.ref} at {short(found.commit)} as {self.name}",
                "comfy-tui",
            )
            install = self.versions.install(
                self.name,
                self.torch,
                torch_index=self.torch_index,
                python=self.python,
                ref=found.ref,
                commit=found.commit,
                force=self.force,
            )
        yield install

"""The guard between running instances and changes to the version they run from.

One object answers "which instances of this version are live?" (running or starting) and
holds the version's lock (`metadata/locks/install-<tag>.lock`, flock, any process):

- a launch takes it *shared* from its check that the version is installed until its run
  record is written and the supervisor spawned (`launching`);
- remove, snapshot restore and node changes take it *exclusive*, then ask which instances
  are live, and refuse with one line naming them (`changing`, or `check` before a question).

So a remove never sees "nothing running" while a launch is between its check and its spawn,
and a launch never starts from a version that is being removed or changed. Every service
that changes or launches a version gets the guard as a required constructor argument.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager

from comfy_tui.aio import to_thread
from comfy_tui.errors import VersionInUseError
from comfy_tui.paths import DataPaths
from comfy_tui.services.flock import AsyncFileLock
from comfy_tui.store.instance_records import InstanceRecord, list_instances

__all__ = ["LiveInstances", "VersionGuard", "in_use_message", "live_instances"]

LiveInstances = Callable[[], Sequence[InstanceRecord]]
"""Every live instance (running or starting) now; blocking, called in a worker thread."""

CHANGE_WAIT_S = 3.0
"""How long a change waits for launches holding the lock shared (they hold it briefly)."""
LAUNCH_WAIT_S = 3.0
"""How long a launch waits for a short exclusive holder (a remove, a snapshot)."""


def live_instances(paths: DataPaths) -> list[InstanceRecord]:
    """The instances of `paths` whose record is live and whose processes exist (blocking).

    A record saved by a launch that has not spawned yet counts as live too: the launch
    holds the version lock shared until its supervisor runs, so a guard never looks then.
    """
    from comfy_tui.services.instances.identity import any_alive  # psutil, only when asked

    return [r for r in list_instances(paths) if r.live and any_alive(r)]


def in_use_message(tag: str, doing: str, records: Sequence[InstanceRecord]) -> str:
    """`cannot remove v0.3.77: v0.3.77 :8188, id ab12 is running; stop it with: comfy-tui
    stop ab12` (one line; several instances are listed and stopped by tag)."""
    named = "; ".join(f"{r.version} :{r.port}, id {r.id} is {r.state}" for r in records)
    target = records[0].id if len(records) == 1 else tag
    them = "it" if len(records) == 1 else "them"
    return f"cannot {doing}: {named}; stop {them} with: comfy-tui stop {target}"


class VersionGuard:
    """Which versions run, and the lock that keeps launches and changes apart."""

    def __init__(self, paths: DataPaths, live: LiveInstances) -> None:
        self.paths = paths
        self._live = live

    async def live(self, tag: str | None = None) -> list[InstanceRecord]:
        """Live instances (of `tag`, or all)."""
        records = await to_thread(self._live)
        return [r for r in records if tag is None or r.version == tag]

    async def running_versions(self) -> Mapping[str, int]:
        """Version tag -> how many of its instances are live now."""
        return dict(Counter(r.version for r in await self.live()))

    async def check(self, tags: str | Sequence[str], doing: str) -> None:
        """Raise VersionInUseError naming the live instances of `tags` (before any question)."""
        wanted = {tags} if isinstance(tags, str) else set(tags)
        records = [r for r in await self.live() if r.version in wanted]
        if records:
            first = records[0].version
            raise VersionInUseError(in_use_message(first, doing, records))

    @asynccontextmanager
    async def changing(
        self, tags: str | Sequence[str], doing: str, *, busy: str = ""
    ) -> AsyncIterator[None]:
        """Hold the lock of each of `tags` exclusive, then `check`: the body runs only while
        no instance of them is live, and none can start until it ends."""
        ordered = [tags] if isinstance(tags, str) else sorted(set(tags))
        locks = [
            AsyncFileLock(
                self.paths.install_lock(tag),
                timeout=CHANGE_WAIT_S,
                busy=busy
                or f"{tag} is being installed, launched or changed right now; try again "
                "when that ends",
            )
            for tag in ordered
        ]
        taken: list[AsyncFileLock] = []
        try:
            for lock in locks:
                await lock.acquire()
                taken.append(lock)
            await self.check(ordered, doing)
            yield
        finally:
            for lock in reversed(taken):
                lock.release()

    def launching(self, tag: str) -> AsyncFileLock:
        """The version's lock, shared: held by a launch from its check until its spawn."""
        return AsyncFileLock(
            self.paths.install_lock(tag),
            shared=True,
            timeout=LAUNCH_WAIT_S,
            busy=f"{tag} is being installed, removed or changed right now; launch it when "
            "that ends",
        )

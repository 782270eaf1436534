"""`Fleet`: every configured host's state, and actions run on one host or on many at once.

Each host has one `HostLink` (one SSH connection). A status look asks every host at the same
time, each within its own timeout, so a slow or down host is reported as such while the others
are already shown. Actions are the host's own `comfy-tui` subcommands with `--json`; a bulk
action runs on every chosen host concurrently and reports each host separately.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from comfy_tui.core.fleet_hosts import HostSpec
from comfy_tui.errors import NotFoundError, ValidationError
from comfy_tui.services.fleet.state import HostState, failed, from_remote
from comfy_tui.services.fleet.transport import HostError, HostLink
from comfy_tui.services.instances.launch import LaunchRequest
from comfy_tui.store.version_records import VersionRecord

if TYPE_CHECKING:
    from comfy_tui.services.downloads.data import DownloadRequest
    from comfy_tui.services.downloads.hf import RepoEntry

log = logging.getLogger(__name__)

QUICK_STATS = {"COMFY_TUI_POLL_INTERVAL": "0.2"}
"""A status look's `stats` samples 0.2 s apart (not the host's poll_interval, 1 s by
default): the fleet shows GPUs and disk, which need no long interval, and answers sooner."""
LAUNCH_TIMEOUT = 900.0
"""Seconds a remote launch may take (it returns when ComfyUI answers)."""
LONG_TIMEOUT = 4 * 3600.0
"""Seconds a remote install or model download may take."""


@dataclass(frozen=True)
class HostResult:
    """How an action went on one host."""

    host: str
    ok: bool
    detail: str
    data: Any = None

    def to_json(self) -> dict[str, Any]:
        return {"host": self.host, "ok": self.ok, "detail": self.detail, "result": self.data}


def _summary(data: Any) -> str:
    if isinstance(data, dict):
        for key in ("url", "detail", "message", "tag", "id"):
            if data.get(key):
                return str(data[key])
    if isinstance(data, list):
        return f"{len(data)} item(s)"
    return "done"


def launch_args(request: LaunchRequest) -> list[str]:
    """`launch ...` arguments for a request, every value its own word (quoted on the way)."""
    args = ["launch"]
    if request.version:
        args.append(request.version)
    if request.port is not None:
        args += ["--port", str(request.port)]
    if request.gpu is not None:
        args += ["--gpu", str(request.gpu)]
    if request.listen:
        args += ["--listen", request.listen]
    for key, value in request.env.items():
        args += ["--env", f"{key}={value}"]
    if request.auto_restart:
        args.append("--auto-restart")
    if request.extra_args:
        args += ["--", *request.extra_args]
    return args


class Fleet:
    """The configured hosts and one connection to each (opened on first use)."""

    def __init__(
        self, hosts: Sequence[HostSpec], *, link: Callable[[HostSpec], HostLink] = HostLink
    ) -> None:
        self.hosts = tuple(hosts)
        self._links = {spec.name: link(spec) for spec in self.hosts}

    def link(self, name: str) -> HostLink:
        try:
            return self._links[name]
        except KeyError:
            known = ", ".join(self._links) or "none configured"
            raise NotFoundError(f"no host named {name!r} (hosts: {known})") from None

    def select(self, names: Sequence[str] = (), tags: Sequence[str] = ()) -> list[HostSpec]:
        """The hosts named, or carrying every tag given; all hosts when neither is given."""
        unknown = [name for name in names if name not in self._links]
        if unknown:
            known = ", ".join(self._links) or "none configured"
            raise ValidationError(f"no host named {unknown[0]!r} (hosts: {known})")
        chosen = [
            spec
            for spec in self.hosts
            if (not names or spec.name in names) and all(spec.has_tag(t) for t in tags)
        ]
        if tags and not chosen:
            raise ValidationError(f"no host is tagged {' and '.join(tags)}")
        return chosen

    # --- state ---------------------------------------------------------------------------
    async def status(self, spec: HostSpec) -> HostState:
        """One host's state; never raises for the host's own trouble (it is the state)."""
        link = self.link(spec.name)
        version = asyncio.ensure_future(link.run(["--version"]))
        stats = asyncio.ensure_future(link.run_json(["stats"], env=QUICK_STATS))
        ps = asyncio.ensure_future(link.run_json(["ps"]))
        try:
            await asyncio.gather(version, stats, ps)
        except HostError as exc:
            for task in (version, stats, ps):
                task.cancel()
            await asyncio.gather(version, stats, ps, return_exceptions=True)
            return failed(spec, exc.state, str(exc))
        answer = version.result()
        line = answer.stdout if answer.exit_status == 0 else ""
        state = from_remote(spec, line, stats.result(), ps.result())
        return state.with_forwards(link.forwards()) if link.forwards() else state

    async def statuses(self, hosts: Sequence[HostSpec] | None = None) -> list[HostState]:
        """Every host's state, asked at once, in the configured order."""
        chosen = self.hosts if hosts is None else hosts
        return list(await asyncio.gather(*(self.status(spec) for spec in chosen)))

    async def each_status(
        self, hosts: Sequence[HostSpec] | None = None
    ) -> AsyncIterator[HostState]:
        """Every host's state as soon as that host has answered (or failed)."""
        chosen = self.hosts if hosts is None else hosts
        for next_done in asyncio.as_completed([self.status(spec) for spec in chosen]):
            yield await next_done

    # --- actions on one host -------------------------------------------------------------
    async def call(self, host: str, args: Sequence[str], *, timeout: float | None = None) -> Any:
        """`comfy-tui ARGS --json` on `host` (changes something: never run twice)."""
        return await self.link(host).run_json(args, timeout=timeout, retry=False)

    async def versions(self, host: str) -> list[VersionRecord]:
        """The versions installed on `host` (its `versions --json`), for the launch dialog."""
        doc = await self.link(host).run_json(["versions"])
        items = doc.get("versions") if isinstance(doc, dict) else None
        known = {f.name for f in fields(VersionRecord)}
        out = []
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and item.get("tag"):
                data = {k: v for k, v in item.items() if k in known}
                out.append(VersionRecord.from_json(data, Path(f"{host}:versions")))
        return out

    async def launch(self, host: str, request: LaunchRequest) -> Any:
        """The launch dialog's request, run on `host` (returns when ComfyUI answers there)."""
        return await self.call(host, launch_args(request), timeout=LAUNCH_TIMEOUT)

    async def stop(self, host: str, target: str | None = None) -> Any:
        """Stop one instance (id or tag) on `host`, or every instance there."""
        args = ["stop", target] if target else ["stop", "--all"]
        return await self.call(host, args, timeout=LAUNCH_TIMEOUT)

    async def install(self, host: str, tag: str) -> Any:
        return await self.call(host, ["install", tag], timeout=LONG_TIMEOUT)

    async def download(self, host: str, request: DownloadRequest) -> Any:
        """The download dialog's request, run on `host` into its library (returns when done)."""
        args = ["models", "download", request.source]
        if request.file:
            args.append(request.file)
        for flag, value in (
            ("--folder", request.folder),
            ("--sha256", request.sha256),
            ("--revision", request.revision),
        ):
            if value:
                args += [flag, value]
        return await self.call(host, args, timeout=LONG_TIMEOUT)

    async def repo_files(self, host: str, repo: str, revision: str = "main") -> list[RepoEntry]:
        """The files of a Hugging Face repo at `revision` as `host` sees it (its endpoint, its
        token), for the download dialog's picker: `models download REPO --revision R --json`
        lists them (exit 2)."""
        from comfy_tui.services.downloads.hf import RepoEntry

        link = self.link(host)
        result = await link.run(["models", "download", repo, "--revision", revision, "--json"])
        try:
            doc = json.loads(result.stdout) if result.exit_status in (0, 2) else None
        except ValueError:
            doc = None
        files = doc.get("files") if isinstance(doc, dict) else None
        if not isinstance(files, list):
            raise link.failure(result)
        return [
            RepoEntry(str(f["path"]), f.get("size"), f.get("sha256"))
            for f in files
            if isinstance(f, dict) and f.get("path")
        ]

    async def logs(self, host: str, instance: str, lines: int = 200) -> list[str]:
        doc = await self.link(host).run_json(["logs", instance, "-n", str(lines)])
        got = doc.get("lines") if isinstance(doc, dict) else None
        return [str(line) for line in got] if isinstance(got, list) else []

    async def forward(self, host: str, remote_port: int) -> int:
        """A local port that reaches `host:127.0.0.1:remote_port` through the SSH connection."""
        return await self.link(host).forward(remote_port)

    # --- many hosts ----------------------------------------------------------------------
    async def each(
        self, hosts: Sequence[HostSpec], action: Callable[[str], Awaitable[Any]]
    ) -> list[HostResult]:
        """Run `action(host_name)` on every host at once; one result per host, in order."""

        async def one(spec: HostSpec) -> HostResult:
            try:
                data = await action(spec.name)
            except HostError as exc:
                return HostResult(spec.name, False, str(exc))
            return HostResult(spec.name, True, _summary(data), data)

        return list(await asyncio.gather(*(one(spec) for spec in hosts)))

    async def aclose(self) -> None:
        for link in self._links.values():
            await link.aclose()

"""One SSH connection per fleet host (asyncssh): remote `comfy-tui … --json` calls and forwards.

`HostLink` opens its connection on first use and keeps it (channels are multiplexed over it,
keepalive on). A connection that fails is retried with backoff: while a host is backing off,
a call fails at once with the last reason, so a down host never stalls the caller. A call that
finds its connection dropped reconnects once and, when it only reads, runs again.

Host keys are checked against `~/.ssh/known_hosts` (and `/etc/ssh/ssh_known_hosts`) whatever
`~/.ssh/config` says: an unknown or changed key is refused with the key's fingerprint, never
accepted. The remote command line is `shlex.join` of the host's command and the arguments.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shlex
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from comfy_tui.core.fleet_hosts import HostSpec
from comfy_tui.core.safe_text import escape_text
from comfy_tui.core.units import format_duration
from comfy_tui.errors import NetworkError
from comfy_tui.services.fleet.ssh_lib import asyncssh

log = logging.getLogger(__name__)

BACKOFF = (1.0, 2.0, 5.0, 10.0, 30.0)
"""Seconds a host waits before the next connection attempt, after 1, 2, ... failures."""
KEEPALIVE_S = 15.0
KEEPALIVE_MAX = 3


class HostError(NetworkError):
    """A fleet host could not be asked (down, slow, refused); the message names the host."""

    state = "error"


class HostDown(HostError):
    """No SSH connection could be made (refused, no route, authentication failed)."""

    state = "down"


class HostSlow(HostError):
    """The host did not answer within the call's timeout."""

    state = "slow"


class HostKeyRefused(HostError):
    """The host's key is not in known_hosts, or differs from it: nothing is sent to it."""

    state = "refused"


class RemoteCommandError(HostError):
    """`comfy-tui` on the host ran and failed; `exit_code` is the remote's."""

    state = "failed"

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(frozen=True)
class RemoteResult:
    exit_status: int
    stdout: str
    stderr: str


Connect = Callable[..., Awaitable[asyncssh.SSHClientConnection]]
"""`asyncssh.connect`, or a test's stand-in with the same keywords."""


def known_hosts_files(home: Path | None = None) -> list[str]:
    """The known_hosts files that exist: the user's, then the system's."""
    user = (home or Path.home()) / ".ssh" / "known_hosts"
    return [str(p) for p in (user, Path("/etc/ssh/ssh_known_hosts")) if p.is_file()]


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return escape_text(lines[-1].strip()) if lines else ""


class HostLink:
    """The connection to one host (see the module docstring)."""

    def __init__(
        self,
        spec: HostSpec,
        *,
        known_hosts: Sequence[str] | None = None,
        connect: Connect | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.spec = spec
        self._known_hosts = list(known_hosts) if known_hosts is not None else None
        self._connect: Connect = connect or asyncssh.connect
        self._clock = clock
        self._conn: asyncssh.SSHClientConnection | None = None
        self._lock = asyncio.Lock()
        self._failures = 0
        self._next_try = 0.0
        self._last_error: HostError | None = None
        self._listeners: dict[int, asyncssh.SSHListener] = {}

    @property
    def connected(self) -> bool:
        return self._conn is not None

    # --- the connection ------------------------------------------------------------------
    def _options(self) -> dict[str, Any]:
        spec = self.spec
        known = self._known_hosts if self._known_hosts is not None else known_hosts_files()
        options: dict[str, Any] = {
            "known_hosts": known or asyncssh.import_known_hosts(""),
            "keepalive_interval": KEEPALIVE_S,
            "keepalive_count_max": KEEPALIVE_MAX,
            "connect_timeout": spec.timeout,
        }
        if spec.port is not None:
            options["port"] = spec.port
        if spec.user is not None:
            options["username"] = spec.user
        if spec.identity_file is not None:
            options["client_keys"] = [str(spec.identity_file)]
            options["agent_path"] = None
        return options

    async def _connection(self) -> asyncssh.SSHClientConnection:
        async with self._lock:
            if self._conn is not None:
                return self._conn
            now = self._clock()
            if self._last_error is not None and now < self._next_try:
                wait = self._next_try - now
                same = type(self._last_error)
                kind = same if same in (HostDown, HostSlow, HostKeyRefused) else HostDown
                raise kind(f"{self._last_error} (next try in {format_duration(wait)})") from None
            try:
                self._conn = await self._connect(self.spec.host, **self._options())
            except HostError as exc:
                self._failed(exc)
                raise
            except asyncssh.HostKeyNotVerifiable as exc:
                refused = await self._refused(exc)
                self._failed(refused)
                raise refused from None
            except (OSError, asyncssh.Error, asyncssh.KeyImportError, ValueError) as exc:
                error = HostDown(f"{self.spec.name}: cannot connect to {self.spec.target}: {exc}")
                self._failed(error)
                raise error from None
            self._failures = 0
            self._last_error = None
            log.info("fleet: connected to %s (%s)", self.spec.name, self.spec.target)
            return self._conn

    def _failed(self, error: HostError) -> None:
        self._last_error = error
        delay = BACKOFF[min(self._failures, len(BACKOFF) - 1)]
        self._failures += 1
        self._next_try = self._clock() + delay
        log.info("fleet: %s (retry in %.0f s)", error, delay)

    async def _refused(self, exc: asyncssh.HostKeyNotVerifiable) -> HostKeyRefused:
        """The refusal, with the fingerprint the host offers and whether known_hosts had
        another key for it (a changed key) or none (an unknown host)."""
        spec = self.spec
        fingerprint = "unknown"
        with contextlib.suppress(OSError, asyncssh.Error, asyncio.TimeoutError):
            async with asyncio.timeout(spec.timeout):
                key = await asyncssh.get_server_host_key(spec.host, spec.port or ())
            if key is not None:
                fingerprint = key.get_fingerprint("sha256")
        files = self._known_hosts if self._known_hosts is not None else known_hosts_files()
        changed = False
        for path in files:
            with contextlib.suppress(OSError, ValueError):
                match = asyncssh.read_known_hosts(path).match(spec.host, "", spec.port)
                changed = changed or bool(match[0] or match[1])
        where = f"[{spec.host}]:{spec.port}" if spec.port else spec.host
        if changed:
            why = "CHANGED host key (known_hosts has another key for it; a different machine?)"
        else:
            why = "unknown host key (not in known_hosts)"
        log.warning("fleet: %s refused: %s %s (%s)", spec.name, why, fingerprint, exc)
        return HostKeyRefused(
            f"{spec.name}: refused {where}: {why}, offered {fingerprint}; if that is the "
            f"host's key, add it with: ssh-keyscan{f' -p {spec.port}' if spec.port else ''} "
            f"{spec.host} >> ~/.ssh/known_hosts"
        )

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        self._listeners.clear()
        if conn is not None:
            conn.abort()

    # --- calls ---------------------------------------------------------------------------
    async def run(
        self,
        args: Sequence[str],
        *,
        timeout: float | None = None,
        retry: bool = True,
        env: Mapping[str, str] | None = None,
    ) -> RemoteResult:
        """Run `comfy-tui ARGS` on the host; `retry`: run again once after a dropped
        connection (only for calls that change nothing); `env`: variables for this call."""
        limit = timeout if timeout is not None else self.spec.timeout
        line = self.spec.command_line(args, env)
        try:
            async with asyncio.timeout(limit):
                for attempt in (1, 2):
                    conn = await self._connection()
                    try:
                        done = await conn.run(line, check=False)
                        if done.exit_status is None and done.exit_signal is None:
                            raise asyncssh.ConnectionLost("the channel closed without a status")
                    except (
                        asyncssh.ConnectionLost,
                        asyncssh.DisconnectError,
                        asyncssh.ChannelOpenError,
                        OSError,
                    ) as exc:
                        self._drop()
                        if attempt == 2 or not retry:
                            raise HostDown(
                                f"{self.spec.name}: the connection dropped ({exc})"
                            ) from None
                        log.info("fleet: %s dropped (%s); reconnecting", self.spec.name, exc)
                        continue
                    break
        except TimeoutError:
            raise HostSlow(
                f"{self.spec.name}: no answer within {format_duration(limit, precision=1)}"
            ) from None
        status = done.exit_status if done.exit_status is not None else 255
        return RemoteResult(status, _text(done.stdout), _text(done.stderr))

    async def run_json(
        self,
        args: Sequence[str],
        *,
        timeout: float | None = None,
        retry: bool = True,
        env: Mapping[str, str] | None = None,
    ) -> Any:
        """`comfy-tui ARGS --json` on the host, its JSON document; a failure raises
        RemoteCommandError with the remote's one-line reason and exit code."""
        result = await self.run([*args, "--json"], timeout=timeout, retry=retry, env=env)
        if result.exit_status != 0:
            raise self.failure(result)
        try:
            return json.loads(result.stdout)
        except ValueError:
            raise RemoteCommandError(
                f"{self.spec.name}: `{shlex.join(args)}` printed no JSON "
                f"({_last_line(result.stdout) or 'nothing'})",
                1,
            ) from None

    def failure(self, result: RemoteResult) -> RemoteCommandError:
        reason = _last_line(result.stderr) or f"exit status {result.exit_status}"
        if result.exit_status == 127:
            reason = f"comfy-tui not found ({' '.join(self.spec.command)}): {reason}"
        return RemoteCommandError(f"{self.spec.name}: {reason}", result.exit_status)

    async def forward(self, remote_port: int) -> int:
        """`localhost:N → host:127.0.0.1:remote_port` through this connection; the local port
        (the same one again for the same remote port while the connection lives)."""
        if remote_port in self._listeners:
            return self._listeners[remote_port].get_port()
        async with asyncio.timeout(self.spec.timeout):
            conn = await self._connection()
            listener = await conn.forward_local_port("127.0.0.1", 0, "127.0.0.1", remote_port)
        self._listeners[remote_port] = listener
        return listener.get_port()

    def forwards(self) -> dict[int, int]:
        """Remote port → local port of the forwards open now."""
        return {remote: lis.get_port() for remote, lis in self._listeners.items()}

    async def aclose(self) -> None:
        conn, self._conn = self._conn, None
        self._listeners.clear()
        if conn is not None:
            conn.close()
            try:
                async with asyncio.timeout(2):
                    await conn.wait_closed()
            except TimeoutError:
                conn.abort()


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)

"""Async child processes for long jobs: own session, output as lines, the whole group killed.

`ChildProcess(argv).lines()` starts the child in a new session (its pid is its process-group
id), merges stderr into stdout and yields the output split on ``\\r`` and ``\\n`` (so git's and
pip's progress redraws arrive as separate lines). When the consumer is cancelled, or stops
early, or the child exits, every process left in the group is killed. With `die_with_parent`
(the default) the child also gets SIGKILL from the kernel if this process dies, even by
``kill -9`` (Linux ``PR_SET_PDEATHSIG``), so no install outlives the program that ran it.
Long-lived children such as a launched ComfyUI pass ``die_with_parent=False``.

`run_capture` is the short form: run, collect stdout and stderr, return the exit status.

Both give the child `childenv.child_environ(env)`: whatever environment a caller builds, the
child never sees comfy-tui's secrets (`HF_TOKEN`, `GITHUB_TOKEN`, ...).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import logging
import os
import re
import signal
import sys
from collections import deque
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from comfy_tui.core.units import format_duration
from comfy_tui.errors import ProcessError
from comfy_tui.events import each
from comfy_tui.services.childenv import child_environ

log = logging.getLogger(__name__)

__all__ = ["ChildProcess", "CompletedRun", "kill_group", "run_capture"]

_NEWLINES = re.compile(rb"[\r\n]")
_READ_SIZE = 64 * 1024
_PR_SET_PDEATHSIG = 1


def _load_prctl() -> Callable[[int, int], int] | None:
    """libc's prctl, loaded in the parent (never after fork); None off Linux."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None
    prctl: Callable[[int, int], int] = libc.prctl
    return prctl


_PRCTL = _load_prctl()


def _die_with(parent_pid: int) -> Callable[[], None] | None:
    """A preexec_fn asking the kernel to SIGKILL the child when `parent_pid` goes away."""
    prctl = _PRCTL
    if prctl is None:
        return None

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os.kill(os.getpid(), signal.SIGKILL)

    return preexec


def kill_group(pgid: int, sig: int = signal.SIGKILL) -> None:
    """Signal a process group; a group that is already gone is fine."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "replace").rstrip()


@dataclass(frozen=True)
class CompletedRun:
    returncode: int
    stdout: str
    stderr: str


class ChildProcess:
    """One child run whose output is read line by line (stderr merged into stdout)."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        die_with_parent: bool = True,
        tail_lines: int = 40,
    ) -> None:
        if not argv:
            raise ValueError("argv is empty")
        self.argv = [str(a) for a in argv]
        self.cwd = cwd
        self.env = child_environ(env)
        self.die_with_parent = die_with_parent
        self.returncode: int | None = None
        self.pid: int | None = None
        self.tail: deque[str] = deque(maxlen=tail_lines)
        """The last lines of output, for an error message."""

    def last_line(self, pattern: str = r"(?i)error|fatal") -> str:
        """The last output line matching `pattern`, else the last line, else ""."""
        matcher = re.compile(pattern)
        for line in reversed(self.tail):
            if matcher.search(line):
                return line.strip()
        return self.tail[-1].strip() if self.tail else ""

    async def _start(self) -> asyncio.subprocess.Process:
        try:
            proc = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                cwd=self.cwd,
                env=self.env,
                start_new_session=True,
                preexec_fn=_die_with(os.getpid()) if self.die_with_parent else None,
            )
        except OSError as exc:
            raise ProcessError(f"cannot run {self.argv[0]}: {exc.strerror or exc}") from exc
        self.pid = proc.pid
        log.debug("started pid %s: %s", proc.pid, self.argv)
        return proc

    async def lines(self) -> AsyncGenerator[str, None]:
        """Start the child and yield its output lines; `returncode` is set once it ends."""
        proc = await self._start()
        assert proc.stdout is not None
        try:
            pending = b""
            while chunk := await proc.stdout.read(_READ_SIZE):
                *complete, pending = _NEWLINES.split(pending + chunk)
                if len(pending) > _READ_SIZE:  # a line without end: pass it on in pieces
                    complete.append(pending)
                    pending = b""
                for raw in complete:
                    if text := _decode(raw):
                        self.tail.append(text)
                        yield text
            if text := _decode(pending):
                self.tail.append(text)
                yield text
            self.returncode = await proc.wait()
        finally:
            await self._reap(proc)

    async def _reap(self, proc: asyncio.subprocess.Process) -> None:
        """Kill whatever is left of the group (the child too, if it still runs) and wait."""
        kill_group(proc.pid)
        if proc.returncode is None:
            try:
                self.returncode = await proc.wait()
            except asyncio.CancelledError:  # cancelled again while reaping: do not leak
                with contextlib.suppress(ChildProcessError, OSError):
                    os.waitpid(proc.pid, 0)
                raise

    async def run(self) -> int:
        """Run to the end, discarding output except `tail`; return the exit status."""
        await each(self.lines(), lambda _line: None)
        assert self.returncode is not None
        return self.returncode


async def run_capture(
    argv: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = 120.0,
) -> CompletedRun:
    """Run a short command (own session, dies with us), collect its output, return its status.

    Raises ProcessError when it cannot start or runs past `timeout` seconds (it is killed).
    """
    try:
        proc = await asyncio.create_subprocess_exec(
            *[str(a) for a in argv],
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=cwd,
            env=child_environ(env),
            start_new_session=True,
            preexec_fn=_die_with(os.getpid()),
        )
    except OSError as exc:
        raise ProcessError(f"cannot run {argv[0]}: {exc.strerror or exc}") from exc
    try:
        async with asyncio.timeout(timeout):  # not wait_for: on 3.11 it can lose a Ctrl-C
            out, err = await proc.communicate()
    except TimeoutError:
        raise ProcessError(
            f"{argv[0]} took longer than {format_duration(timeout, precision=1)} and was stopped"
        ) from None
    finally:
        kill_group(proc.pid)
        if proc.returncode is None:
            await proc.wait()
    assert proc.returncode is not None
    return CompletedRun(proc.returncode, _decode(out), _decode(err))

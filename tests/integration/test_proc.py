"""Child processes for jobs: lines split on \\r and \\n, the whole group killed on cancel,
and no child outliving a parent killed with -9."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from contextlib import aclosing
from pathlib import Path

import psutil
import pytest

from comfy_tui.errors import ProcessError
from comfy_tui.services.proc import ChildProcess, run_capture
from tests.waiting import until, wait_until

PY = sys.executable


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait_gone(pid: int) -> bool:
    wait_until(lambda: _gone(pid), f"pid {pid} to end")
    return True


async def test_output_is_split_on_carriage_returns_and_newlines() -> None:
    code = (
        "import sys; sys.stdout.write('a 10%\\ra 50%\\ra 100%\\nnext\\n')\nsys.stderr.write('err')"
    )
    child = ChildProcess([PY, "-c", code])
    lines = [line async for line in child.lines()]
    assert lines == ["a 10%", "a 50%", "a 100%", "next", "err"]
    assert child.returncode == 0


async def test_exit_status_and_tail() -> None:
    child = ChildProcess([PY, "-c", "print('one'); print('fatal: two'); raise SystemExit(3)"])
    assert await child.run() == 3
    assert list(child.tail) == ["one", "fatal: two"]
    assert child.last_line() == "fatal: two"


async def test_a_missing_program_is_a_process_error(tmp_path: Path) -> None:
    with pytest.raises(ProcessError, match="cannot run"):
        await ChildProcess([str(tmp_path / "nope")]).run()


@pytest.mark.parametrize("busy_consumer", [False, True])
async def test_cancel_kills_the_whole_group(tmp_path: Path, busy_consumer: bool) -> None:
    marker = tmp_path / "grandchild.pid"
    code = textwrap.dedent(
        f"""
        import subprocess, sys, time
        p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        open({str(marker)!r}, "w").write(str(p.pid))
        print("ready", flush=True)
        time.sleep(60)
        """
    )
    child = ChildProcess([PY, "-c", code])
    ready = asyncio.Event()

    async def consume() -> None:
        async with aclosing(child.lines()) as lines:
            async for line in lines:
                if line == "ready":
                    ready.set()
                    if busy_consumer:
                        await asyncio.sleep(60)  # the cancel lands here, outside the generator
                # else the cancel lands in the generator, waiting for the next line

    task = asyncio.create_task(consume())
    await until(None, ready.is_set, "the consumer to read the child's ready line")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert child.pid is not None
    assert _wait_gone(child.pid)
    assert _wait_gone(int(marker.read_text()))


async def test_stopping_early_kills_the_child() -> None:
    child = ChildProcess([PY, "-c", "import time\nprint('x', flush=True)\ntime.sleep(60)"])
    lines = child.lines()
    async for _ in lines:
        break
    await lines.aclose()  # type: ignore[attr-defined]
    assert child.pid is not None and _wait_gone(child.pid)


async def test_run_capture() -> None:
    run = await run_capture([PY, "-c", "import sys; print('out'); print('err', file=sys.stderr)"])
    assert (run.returncode, run.stdout, run.stderr) == (0, "out", "err")
    with pytest.raises(ProcessError, match="took longer"):
        await run_capture([PY, "-c", "import time; time.sleep(30)"], timeout=0.3)


def test_children_die_with_a_parent_killed_by_sigkill(tmp_path: Path) -> None:
    marker = tmp_path / "child.pid"
    parent = textwrap.dedent(
        f"""
        import asyncio, sys
        sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})
        from comfy_tui.services.proc import ChildProcess

        async def main():
            child = ChildProcess([sys.executable, "-c", "import time; time.sleep(60)"])
            lines = child.lines()
            task = asyncio.ensure_future(lines.__anext__())
            while child.pid is None:
                await asyncio.sleep(0.01)
            open({str(marker)!r}, "w").write(str(child.pid))
            await task

        asyncio.run(main())
        """
    )
    proc = subprocess.Popen([PY, "-c", parent])
    try:
        wait_until(lambda: marker.exists() and marker.read_text(), "the child's pid")
        child_pid = int(marker.read_text())
        assert psutil.pid_exists(child_pid)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert _wait_gone(child_pid)
    finally:
        if proc.poll() is None:
            proc.kill()


async def test_a_line_without_end_arrives_in_pieces() -> None:
    child = ChildProcess([PY, "-c", "import sys; sys.stdout.write('x' * 300_000)"])
    lines = [line async for line in child.lines()]
    assert "".join(lines) == "x" * 300_000
    assert len(lines) > 1

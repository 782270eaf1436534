"""A writer for the kill -9 test: rewrites one JSON file with increasing versions, forever.

Run as ``python tests/fakes/json_writer.py PATH`` with the repository root on PYTHONPATH. It
is a fork server: for each line read on stdin it forks a writer, which resumes from the file's
``n`` plus one and, once its first write of this run is on disk, prints ``ready PID`` and then
writes until it is killed. When that writer has died the server prints ``exit PID STATUS``
(STATUS as `subprocess` gives it: ``-9`` for SIGKILL). Forking a process that has already
imported `comfy_tui.store.jsonfile` starts a writer in about a millisecond, where a fresh
interpreter takes tens; each writer is still its own process, killed as a whole.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, NoReturn


def version(n: int) -> dict[str, Any]:
    """The document the writer writes as its ``n``-th version (sizes vary, 0-4800 B)."""
    return {"n": n, "payload": "x" * (n % 97 * 50)}


def write_forever(path: Path) -> NoReturn:
    """One writer: resume after the file's version, say ``ready`` after the first write."""
    from comfy_tui.store.jsonfile import read_json, write_json

    n = read_json(path, default={"n": -1})["n"] + 1
    write_json(path, version(n))
    sys.stdout.write(f"ready {os.getpid()}\n")
    sys.stdout.flush()
    while True:
        n += 1
        write_json(path, version(n))


def main(argv: list[str]) -> int:
    import comfy_tui.store.jsonfile  # noqa: F401  (imported once, before any fork)

    path = Path(argv[1])
    for _ in sys.stdin:
        pid = os.fork()
        if pid == 0:
            try:
                write_forever(path)
            finally:
                os._exit(1)
        _, status = os.waitpid(pid, 0)
        sys.stdout.write(f"exit {pid} {os.waitstatus_to_exitcode(status)}\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

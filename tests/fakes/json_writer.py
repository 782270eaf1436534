"""A writer for the kill -9 test: rewrites one JSON file with increasing versions, forever.

Run as ``python tests/fakes/json_writer.py PATH`` with the repository root on
PYTHONPATH. It resumes from the file's ``n`` plus one, prints ``ready`` once its first
write of this run is on disk, and then writes until it is killed. It imports nothing
but the standard library and `comfy_tui.store.jsonfile`, so it starts fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any


def version(n: int) -> dict[str, Any]:
    """The document the writer writes as its ``n``-th version (sizes vary, 0-4800 B)."""
    return {"n": n, "payload": "x" * (n % 97 * 50)}


def main(argv: list[str]) -> int:
    from comfy_tui.store.jsonfile import read_json, write_json

    path = Path(argv[1])
    n = read_json(path, default={"n": -1})["n"] + 1
    write_json(path, version(n))
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    while True:
        n += 1
        write_json(path, version(n))


if __name__ == "__main__":
    sys.exit(main(sys.argv))

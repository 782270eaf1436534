"""`comfy-tui models scan`: index the library folders, blocking, with no event loop.

The scan is `services/library/scan.py: scan_library`, the same job the TUI runs in a worker
thread; here it runs in the main thread over stdlib `sqlite3`, and its events are printed by
the same printer as every CLI job (`output.drive_steps`). This module imports no asyncio,
aiosqlite or service container (a test checks `sys.modules`): a rescan of an unchanged library
costs about a walk of its files.
"""

from __future__ import annotations

import argparse
import time

from comfy_tui.cli.context import Context
from comfy_tui.cli.output import drive_steps, out, out_json
from comfy_tui.services.library.roots import library_roots
from comfy_tui.services.library.scan import ScanSummary, scan_library


def run_scan(ctx: Context, args: argparse.Namespace) -> int:
    summary = ScanSummary()
    roots = library_roots(ctx.settings, ctx.paths)
    drive_steps(scan_library(ctx.paths, roots, clock=time.time, summary=summary))
    if ctx.json:
        out_json(dict(vars(summary)))
    else:
        out(summary.line())
    return 0

"""The `comfy-tui` command: no subcommand opens the TUI; subcommands run the same services.

Exit codes: 0 success, 1 failure, 2 bad usage or invalid input (one-line reason on stderr).
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from comfy_tui import log_start
from comfy_tui.cli.context import Context
from comfy_tui.cli.handlers import handler_for
from comfy_tui.cli.output import err, silence_output
from comfy_tui.cli.parser import parser_for
from comfy_tui.core.safe_text import escape_text
from comfy_tui.errors import ComfyTuiError
from comfy_tui.paths import DataPaths, resolve_data_dir
from comfy_tui.services.container import Services
from comfy_tui.services.envsnap.journal import has_journals
from comfy_tui.services.lifecycle import has_swaps
from comfy_tui.settings import Settings, load_settings

if TYPE_CHECKING:
    import logging

UNLOGGED = frozenset({"models scan"})
"""Commands whose quiet run writes no log line: their log file is set up on first need
(log_start.py), so that an unchanged library's scan imports no `logging`."""


def _log() -> logging.Logger:
    """This module's logger, the log file set up first if it was left for later."""
    log_start.ensure()
    import logging

    return logging.getLogger(__name__)


def _split_extra(argv: list[str]) -> tuple[list[str], list[str]]:
    """`launch ... -- --flag` → the part argparse reads, and ComfyUI's extra flags."""
    if "--" in argv:
        at = argv.index("--")
        return argv[:at], argv[at + 1 :]
    return argv, []


def settle_interrupted(services: Services) -> list[str]:
    """Settle snapshot restores and update swaps a kill interrupted (a failed directory open
    each when none was); each gets one line on stderr, and the TUI shows them too."""
    lines: list[str] = []
    if has_swaps(services.paths.root) or has_journals(services.paths):
        log_start.ensure()  # settling logs what it does
    if has_swaps(services.paths.root):  # an update killed mid-swap (services/lifecycle/update.py)
        from comfy_tui.services.lifecycle.swap_journal import settle_swaps

        lines += settle_swaps(services.paths)
        for line in lines:
            err(f"comfy-tui: {escape_text(line)}")
    if not has_journals(services.paths):
        return lines
    import asyncio  # here: most commands never need it, and it costs a third of a start

    from comfy_tui.services.envsnap.recover import recover_restores

    restored = asyncio.run(recover_restores(services.nodes.snapshots))
    for line in restored:
        err(f"comfy-tui: {escape_text(line)}")
    return lines + restored


def run_tui(settings: Settings, notes: Sequence[str] = ()) -> int:
    """Open the full-screen app (Textual is imported only here); `notes` are shown on start."""
    from comfy_tui.ui.factory import make_app

    app = make_app(settings)
    for note in notes:
        app.notify(note, title="Interrupted restore", severity="warning", timeout=30, markup=False)
    result = app.run()
    return result or 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command (or the TUI) with the cyclic garbage collector off while it starts.

    A start allocates hundreds of thousands of objects (modules, classes, Textual's CSS) and
    almost no garbage, yet triggers dozens of collections that walk them all: about a tenth of
    the CPU to the TUI's first frame. The collector is on again before a command's handler
    runs, after the TUI's first frame (`ComfyTuiApp.start_background`), and on return."""
    gc.disable()
    try:
        return _main(argv)
    finally:
        gc.enable()


def _start_log(paths: DataPaths, settings: Settings) -> None:
    from comfy_tui.logs import setup_logging

    setup_logging(paths.app_log(), secrets=settings.secrets())


def _main(argv: Sequence[str] | None) -> int:
    args_in, extra = _split_extra(list(sys.argv[1:] if argv is None else argv))
    parser = parser_for(args_in)
    args = parser.parse_args(args_in)  # exits 2 with usage on a bad flag or unknown command
    args.extra = extra
    if extra and args.command != "launch":
        parser.error("arguments after '--' are only for 'launch'")
    try:
        data_dir = resolve_data_dir(args.data_dir, os.environ)
        settings = load_settings(data_dir, os.environ)
        paths = DataPaths(data_dir)
        log_start.later(lambda: _start_log(paths, settings))
        if args.command not in UNLOGGED:
            log_start.ensure()
        services = Services(settings, paths)
        notes = settle_interrupted(services)
        if args.command is None:
            return run_tui(settings, notes)
        if args.command not in UNLOGGED:
            _log().info("command: %s", args.command)
        ctx = Context(settings, paths, bool(getattr(args, "json", False)), services)
        handler = handler_for(args.command)
        gc.enable()  # the command's own work collects as usual
        return handler(ctx, args)
    except ComfyTuiError as exc:
        _log().info("command failed: %s", exc)
        err(f"comfy-tui: {escape_text(str(exc))}")
        return exc.exit_code
    except BrokenPipeError:  # a write out() did not see: the reader went away; stay quiet
        _log().info("output closed by its reader")
        silence_output()
        return 1
    except KeyboardInterrupt:
        err("comfy-tui: interrupted")
        return 130
    except OSError as exc:
        _log().exception("unexpected OS error")
        err(f"comfy-tui: {escape_text(str(exc))}")
        return 1

"""`tests.cli_run.at_a_terminal`: the children that tests interrupt (Ctrl-C) or hang up on start
with those signals at their defaults, even when the test run itself ignores them (``pytest &``
in a script ignores SIGINT, ``nohup pytest`` ignores SIGHUP), as a command at a terminal does."""

from __future__ import annotations

import subprocess
import sys

from tests.cli_run import at_a_terminal

IGNORING = (
    "import signal, subprocess, sys\n"
    "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
    "signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"
    "sys.exit(subprocess.run(sys.argv[1:]).returncode)\n"
)
"""A test run started with Ctrl-C and hang-up ignored; it runs the command it is given."""

SHOW = (
    "import signal\n"
    "print(signal.getsignal(signal.SIGINT) is signal.default_int_handler,"
    " signal.getsignal(signal.SIGHUP) == signal.SIG_DFL)\n"
)
"""Prints whether Ctrl-C raises KeyboardInterrupt and whether a hang-up ends it."""


def under_an_ignoring_run(argv: list[str]) -> str:
    result = subprocess.run(
        [sys.executable, "-c", IGNORING, *argv],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,  # only a hung interpreter meets it
        check=True,
    )
    return result.stdout.strip()


def test_a_plain_child_inherits_the_ignored_signals() -> None:
    assert under_an_ignoring_run([sys.executable, "-c", SHOW]) == "False False"


def test_a_child_at_a_terminal_gets_the_defaults_back() -> None:
    assert under_an_ignoring_run(at_a_terminal([sys.executable, "-c", SHOW])) == "True True"

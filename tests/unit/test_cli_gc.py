"""`cli.main` starts with the cyclic garbage collector off (a start makes little garbage and
many collections) and turns it on before a command's handler runs, and on return."""

from __future__ import annotations

import argparse
import gc
from pathlib import Path

import pytest

import comfy_tui.cli as cli
from comfy_tui.cli.context import Context, Handler


def test_a_handler_runs_with_the_collector_on_and_main_returns_it_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []

    def handler(ctx: Context, args: argparse.Namespace) -> int:
        seen.append(gc.isenabled())
        return 0

    def handler_for(command: str) -> Handler:
        seen.append(gc.isenabled())  # importing the handler's module: still off
        return handler

    monkeypatch.setattr(cli, "handler_for", handler_for)
    assert cli.main(["--data-dir", str(tmp_path / "data"), "config", "--json"]) == 0
    assert seen == [False, True]
    assert gc.isenabled()


def test_a_bad_command_line_still_leaves_the_collector_on(tmp_path: Path) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--data-dir", str(tmp_path / "data"), "no-such-command"])
    assert gc.isenabled()

"""The CLI builds only the branch of the command asked for, and parses it exactly as the full
parser does; a start of the TUI (no command, at most `--data-dir`) builds none; anything else
(an unknown command, top-level help) gets the full parser."""

from __future__ import annotations

import argparse

import pytest

from comfy_tui.cli.parser import build_parser, parser_for, requested_command, requested_leaf

ARGVS = [
    ["ps", "--json"],
    ["--data-dir", "/tmp/x", "versions", "--json"],
    ["--data-dir=/tmp/x", "default", "--clear"],
    ["config"],
    ["launch", "v0.3.77", "--port", "8200", "--env", "A=1"],
    ["models", "download", "owner/repo", "file.safetensors", "--folder", "loras"],
    ["nodes", "enable", "Impact", "v0.3.77", "--yes"],
    ["snapshot", "restore", "v0.3.77"],
    ["trash", "empty", "--yes"],
    ["stop", "--all"],
]


def commands(parser: argparse.ArgumentParser) -> set[str]:
    return {
        name
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
        for name in action.choices
    }


@pytest.mark.parametrize("argv", ARGVS, ids=lambda a: " ".join(a))
def test_a_partial_parser_parses_like_the_full_one(argv: list[str]) -> None:
    wanted = requested_command(argv)
    partial = build_parser(wanted)
    assert commands(partial) == {wanted}
    assert partial.parse_args(argv) == build_parser().parse_args(argv)


@pytest.mark.parametrize("argv", [[], ["--data-dir", "/d"], ["--data-dir=/d"]], ids=str)
def test_a_start_of_the_tui_builds_no_command_and_parses_like_the_full_parser(
    argv: list[str],
) -> None:
    lean = parser_for(argv)
    assert commands(lean) == set()
    assert lean.parse_args(argv) == build_parser().parse_args(argv)


@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["--data-dir", "/d", "--bogus"]], ids=str)
def test_help_or_an_unknown_option_without_a_command_gets_the_full_parser(
    argv: list[str],
) -> None:
    assert {"ps", "versions", "models"} <= commands(parser_for(argv))


def actions(parser: argparse.ArgumentParser, group: str) -> set[str]:
    """The actions built under `group` (e.g. "models")."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and group in action.choices:
            return commands(action.choices[group])
    return set()


@pytest.mark.parametrize("argv", ARGVS, ids=lambda a: " ".join(a))
def test_a_leaf_parser_parses_like_the_full_one(argv: list[str]) -> None:
    """parser_for builds only the action asked for of a group ("models download"), and for a
    top-level command its branch (a positional after it is no action)."""
    leaf = parser_for(argv)
    command = requested_command(argv)
    assert command is not None
    assert commands(leaf) == {command}
    if actions(leaf, command):  # a group: the action asked for, alone
        assert actions(leaf, command) == {argv[argv.index(command) + 1]}
    assert leaf.parse_args(argv) == build_parser().parse_args(argv)


def test_a_group_builds_only_the_action_asked_for() -> None:
    parser = parser_for(["models", "scan", "--json"])
    assert commands(parser) == {"models"}
    assert actions(parser, "models") == {"scan"}
    assert requested_leaf(["--data-dir", "/d", "models", "scan"]) == "models scan"
    assert requested_leaf(["ps", "--json"]) == "ps"


def test_a_groups_unknown_action_gets_the_whole_group_and_its_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    parser = parser_for(["models", "bogus"])
    assert {"scan", "list", "download"} <= actions(parser, "models")
    with pytest.raises(SystemExit) as exc:
        parser.parse_args(["models", "bogus"])
    assert exc.value.code == 2
    assert "invalid choice: 'bogus'" in capsys.readouterr().err


def test_requested_command() -> None:
    assert requested_command([]) is None
    assert requested_command(["--data-dir", "ps"]) is None  # "ps" is the directory
    assert requested_command(["--version"]) is None
    assert requested_command(["--data-dir", "/d", "models", "scan"]) == "models"


def test_an_unknown_command_gets_the_full_parser_and_its_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    parser = build_parser("bogus")
    assert {"ps", "versions", "models", "trash"} <= commands(parser)
    with pytest.raises(SystemExit) as exc:
        parser.parse_args(["bogus"])
    assert exc.value.code == 2
    assert "invalid choice: 'bogus'" in capsys.readouterr().err


def test_help_is_as_wide_as_columns_says(monkeypatch: pytest.MonkeyPatch) -> None:
    """The help formatter sizes itself like argparse's own (`COLUMNS`, else the terminal)."""
    widths = []
    for columns in (50, 120):
        monkeypatch.setenv("COLUMNS", str(columns))
        text = build_parser("models").format_help()
        widths.append(max(len(line) for line in text.splitlines()))
        assert widths[-1] <= columns - 2
    assert widths[1] > 50

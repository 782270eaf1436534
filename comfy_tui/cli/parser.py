"""The argparse tree: the command-line contract (README "Command line", docs/architecture.md)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, cast

from comfy_tui import __version__

TORCH_CHOICES = "auto|cpu|cuXXX|rocmX.Y|none"


def terminal_columns() -> int:
    """`COLUMNS`, else the width of the terminal on stdout, else 80 (as shutil says)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


class HelpFormatter(argparse.HelpFormatter):
    """argparse's formatter, sized without `shutil` (argparse imports it, and with it bz2 and
    lzma, for every parser it builds: a tenth of a quick command's imports)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24) -> None:
        super().__init__(prog, indent_increment, max_help_position, terminal_columns() - 2)


def _json_flag() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False, formatter_class=HelpFormatter)
    parent.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    return parent


class _Unbuilt:
    """Stands in for the parser of a command that was not asked for: every call does nothing
    (building the ~60 parsers of every command is most of a quick command's parse)."""

    def __getattr__(self, name: str) -> Callable[..., Any]:
        return lambda *args, **kwargs: self


_UNBUILT = cast(argparse.ArgumentParser, _Unbuilt())


def _command_at(argv: Sequence[str]) -> int | None:
    value_next = False
    for at, arg in enumerate(argv):
        if value_next:
            value_next = False
        elif arg == "--data-dir":
            value_next = True
        elif not arg.startswith("-"):
            return at
    return None


def requested_command(argv: Sequence[str]) -> str | None:
    """The first word of `argv` that is not a top-level option: the command asked for."""
    at = _command_at(argv)
    return None if at is None else argv[at]


def requested_leaf(argv: Sequence[str]) -> str | None:
    """`requested_command`, with the word right after it when that is no option: a group's
    action ("models scan"); `build_parser` treats a pair that is no leaf as its first word."""
    at = _command_at(argv)
    if at is None:
        return None
    if at + 1 < len(argv) and not argv[at + 1].startswith("-"):
        return f"{argv[at]} {argv[at + 1]}"
    return argv[at]


NO_COMMAND = ""
"""`build_parser(NO_COMMAND)`: the top-level options only, no command's parser (the TUI)."""


def parser_for(argv: Sequence[str]) -> argparse.ArgumentParser:
    """The parser `argv` needs: its command's branch; for a start of the TUI (no command, at
    most `--data-dir`) none; for anything else (help, an unknown option) the full one."""
    wanted = requested_leaf(argv)
    if wanted is None and all(_data_dir_part(argv, i) for i in range(len(argv))):
        return build_parser(NO_COMMAND)
    return build_parser(wanted)


def _data_dir_part(argv: Sequence[str], i: int) -> bool:
    arg = argv[i]
    return (
        arg == "--data-dir"
        or arg.startswith("--data-dir=")
        or (i > 0 and argv[i - 1] == "--data-dir")
    )


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser. Each leaf sets `command` (e.g. "models download") for dispatch.

    With `only` (a command name), only that command's branch is built (the others are not
    there); with "GROUP ACTION" (e.g. "models scan") only that leaf of the group; with
    `NO_COMMAND` none is; a name that is no command gets the full parser (an unknown action
    its group's), for its error message."""
    top = only.split(" ", 1)[0] if only else only
    built: list[str] = []
    p = argparse.ArgumentParser(
        prog="comfy-tui",
        description="Install, launch and watch ComfyUI from the terminal. "
        "With no subcommand, opens the full-screen app.",
        formatter_class=HelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"comfy-tui {__version__}")
    p.add_argument("--data-dir", metavar="DIR", help="where comfy-tui keeps its state")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    js = [_json_flag()]

    def group(name: str, help: str) -> argparse.ArgumentParser:
        if top not in (None, name):
            return _UNBUILT
        return sub.add_parser(name, help=help, formatter_class=HelpFormatter)

    def leaf(
        parent: argparse._SubParsersAction[argparse.ArgumentParser],
        name: str,
        help: str,
        command: str | None = None,
    ) -> argparse.ArgumentParser:
        if parent is sub and top not in (None, name):
            return _UNBUILT
        if parent is not sub and only is not None and " " in only and command != only:
            return _UNBUILT  # another action of the group asked for
        built.append(command or name)
        sp = parent.add_parser(
            name, help=help, description=help, parents=js, formatter_class=HelpFormatter
        )
        sp.set_defaults(command=command or name)
        return sp

    leaf(sub, "config", "show the effective settings (tokens masked)")
    r = leaf(sub, "releases", "list ComfyUI releases (cached)")
    r.add_argument("--refresh", action="store_true", help="ask GitHub now, not the cache")
    r.add_argument("--all", action="store_true", help="include prereleases")
    r.add_argument(
        "--estimate",
        action="store_true",
        help="size the dependency sets no install has measured (uv resolution, no download)",
    )
    leaf(sub, "versions", "list installed versions")
    i = leaf(sub, "install", "install a ComfyUI release, branch or commit")
    i.add_argument("tag", metavar="TAG|REF", help="a release tag, a branch or a commit id")
    i.add_argument(
        "--name", metavar="NAME", help="the version's name (default: the tag, or REF-<commit>)"
    )
    i.add_argument("--torch", default="auto", metavar=TORCH_CHOICES, help="torch build")
    i.add_argument(
        "--torch-index",
        metavar="URL|sources",
        help="take torch from this index (or the configured package sources); "
        "default: the torch_index_url setting, else PyTorch's index",
    )
    i.add_argument("--python", metavar="PYTHON", help="interpreter for the new environment")
    i.add_argument(
        "--force", action="store_true", help="install even when the disk looks too small"
    )
    rm = leaf(sub, "remove", "remove an installed version")
    rm.add_argument("tag", metavar="TAG")
    rm.add_argument("--yes", action="store_true", help="do not ask")
    ad = leaf(sub, "adopt", "make an existing ComfyUI folder a version, left in place")
    ad.add_argument("path", metavar="PATH")
    ad.add_argument("--name", metavar="NAME", help="the version's name (default: adopted-<ver>)")
    ad.add_argument("--venv", metavar="PATH", help="its Python environment, if not found inside")
    d = leaf(sub, "default", "set (or with --clear, unset) the default version")
    d.add_argument("tag", metavar="TAG", nargs="?")
    d.add_argument("--clear", action="store_true", help="no default version")
    up = leaf(sub, "update", "move a version to its branch's newest commit, or to --to REF")
    up.add_argument("name", metavar="NAME")
    up.add_argument("--to", metavar="REF", help="a tag, branch or commit (default: its branch)")
    ug = leaf(sub, "upgrade", "rehearse FROM -> TO with FROM's custom nodes, then maybe switch")
    ug.add_argument("source", metavar="FROM")
    ug.add_argument("target", metavar="TO", help="an installed version, or a tag/ref to install")
    ug.add_argument(
        "--switch",
        action="store_true",
        help="when every node loads: make TO the default and move FROM's running instances "
        "to it, one at a time",
    )
    ug.add_argument("--yes", action="store_true", help="install the nodes' packages without asking")
    ug.add_argument(
        "--build-from-source",
        action="store_true",
        help="build node packages that exist only as source (runs their setup code)",
    )
    ug.add_argument(
        "--allow-direct-refs",
        action="store_true",
        help="accept node requirement lines that are refused otherwise: read them first",
    )
    rb = leaf(sub, "rollback", "undo the last update of NAME, or the last switch from NAME")
    rb.add_argument("name", metavar="NAME")

    la = leaf(sub, "launch", "start a version (extra ComfyUI flags after --)")
    la.add_argument("tag", metavar="TAG", nargs="?")
    la.add_argument("--port", type=int)
    la.add_argument(
        "--gpu", metavar="N|auto", help="default (auto): the GPU with the most free memory"
    )
    la.add_argument("--listen", metavar="ADDR")
    la.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set an environment variable for this instance (repeatable; kept by restart)",
    )
    la.add_argument(
        "--output-dir", metavar="DIR", help="this instance's own output folder (kept by restart)"
    )
    la.add_argument("--no-wait", action="store_true", help="return once started, not when ready")
    la.add_argument(
        "--auto-restart",
        action="store_true",
        help="relaunch after a crash (at most 3 times in 5 minutes)",
    )
    leaf(sub, "ps", "list running instances")
    st = leaf(sub, "stop", "stop an instance, every instance of a version, or all")
    st_target = st.add_mutually_exclusive_group(required=True)
    st_target.add_argument("target", metavar="ID|TAG", nargs="?")
    st_target.add_argument("--all", action="store_true")
    st.add_argument(
        "--keep-wanted",
        action="store_true",
        help="stop, but let `up` start them again (the autostart unit's shutdown)",
    )
    rs = leaf(sub, "restart", "restart an instance")
    rs.add_argument("id", metavar="ID")
    lg = leaf(sub, "logs", "show an instance's log")
    lg.add_argument("id", metavar="ID")
    lg.add_argument("-f", "--follow", action="store_true")
    lg.add_argument("-n", "--lines", type=int, default=50, metavar="N")
    jb = leaf(sub, "jobs", "what an instance is working on (--follow: events as lines)")
    jb.add_argument("id", metavar="ID", nargs="?", help="default: the only running instance")
    jb.add_argument("-f", "--follow", action="store_true")
    rn = leaf(sub, "run", "queue an API-format workflow on an instance")
    rn.add_argument("workflow", metavar="WORKFLOW.json")
    rn.add_argument("--instance", metavar="ID", help="default: the only running instance")
    rn.add_argument("--wait", action="store_true", help="follow it and print its output files")
    ou = leaf(sub, "outputs", "copy a prompt's output files into a folder")
    ou.add_argument("id", metavar="ID")
    ou.add_argument("prompt_id", metavar="PROMPT_ID")
    ou.add_argument("--to", metavar="DIR", required=True)
    leaf(sub, "free", "ask an instance to unload models and free memory").add_argument(
        "id", metavar="ID"
    )
    wt = leaf(sub, "watch", "print notifications (jobs, crashes, downloads, installs) as they come")
    wt.add_argument("--count", type=int, metavar="N", help="stop after N notifications")
    leaf(sub, "up", "start every instance you want up that is not running (after a reboot)")
    au = leaf(sub, "autostart", "run `up` at boot: a systemd user unit (or a crontab line)")
    au.add_argument("action", choices=("enable", "disable", "status"))
    s = leaf(sub, "stats", "CPU, RAM, disk and GPU readings")
    s.add_argument("--watch", action="store_true", help="keep printing samples until Ctrl-C")
    s.add_argument("--count", type=int, metavar="N", help="with --watch: stop after N samples")

    m = group("models", "the shared model library")
    msub = m.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    leaf(msub, "scan", "index the library folders", "models scan")
    ml = leaf(msub, "list", "list or search models", "models list")
    ml.add_argument("query", metavar="QUERY", nargs="?")
    ml.add_argument("--folder", metavar="F")
    mi = leaf(msub, "import", "bring files into the library", "models import")
    mi.add_argument("paths", metavar="PATH", nargs="+")
    mi.add_argument("--folder", metavar="F")
    how = mi.add_mutually_exclusive_group()
    for mode in ("copy", "move", "link"):
        how.add_argument(f"--{mode}", dest="mode", action="store_const", const=mode)
    mh = leaf(
        msub, "hash", "hash every model that has no sha256 yet (or the given ones)", "models hash"
    )
    mh.add_argument("paths", metavar="PATH", nargs="*", help="models to hash (folder/name or path)")
    md = leaf(
        msub,
        "dedupe",
        "find duplicate copies (--apply: replace them by hard links)",
        "models dedupe",
    )
    md.add_argument("--apply", action="store_true")
    mr = leaf(msub, "rm", "remove a model from the library", "models rm")
    mr.add_argument("model", metavar="MODEL")
    mdl = leaf(msub, "download", "download a model from a URL or Hugging Face", "models download")
    mdl.add_argument("source", metavar="URL|REPO_ID")
    mdl.add_argument("file", metavar="FILE", nargs="?")
    mdl.add_argument("--folder", metavar="F")
    mdl.add_argument("--sha256", metavar="H")
    mdl.add_argument("--revision", metavar="R")
    mi = leaf(msub, "info", "what one model is (architecture, precision, size, source)",
              "models info")  # fmt: skip
    mi.add_argument("model", metavar="MODEL")
    mi.add_argument(
        "--civitai", action="store_true", help="ask CivitAI by the file's sha256 (hashes it first)"
    )
    mn = leaf(msub, "needs", "which models a workflow (JSON, PNG, WebP) needs", "models needs")
    mn.add_argument("file", metavar="FILE")
    mn.add_argument("--download", action="store_true", help="fetch the missing ones with a URL")
    mn.add_argument("--version", metavar="TAG", help="check its nodes against this version")
    mn.add_argument(
        "--install",
        metavar="TAG",
        help="download the models and add + enable the missing nodes in TAG (asks as 'nodes "
        "enable' does)",
    )

    n = group("nodes", "shared custom nodes")
    nsub = n.add_subparsers(dest="nodes_command", metavar="ACTION", required=True)
    leaf(nsub, "list", "list shared nodes", "nodes list")
    leaf(nsub, "add", "clone a node repository", "nodes add").add_argument("url", metavar="URL")
    nu = leaf(nsub, "update", "update a node", "nodes update")
    nu.add_argument("name", metavar="NAME")
    nu.add_argument("--commit", metavar="REF", help="check out this commit (or tag), pinned")
    enable = leaf(nsub, "enable", "enable a node for a version", "nodes enable")
    disable = leaf(nsub, "disable", "disable a node for a version", "nodes disable")
    for sp in (enable, disable):
        sp.add_argument("name", metavar="NAME")
        sp.add_argument("tag", metavar="TAG")
    for sp in (nu, enable, mn):
        sp.add_argument("--yes", action="store_true", help="install the packages without asking")
        sp.add_argument("--force", action="store_true", help="allow a torch/torchvision change")
        sp.add_argument(
            "--run-install-script", action="store_true", help="run the node's install.py"
        )
        sp.add_argument(
            "--allow-direct-refs",
            action="store_true",
            help="accept requirement lines that are refused (direct references, -e, -r "
            "outside the node, index options): read them first",
        )
        sp.add_argument(
            "--build-from-source",
            action="store_true",
            help="build packages that exist only as source (runs their setup code)",
        )
    na = leaf(nsub, "adopt", "share a version's own node checkout (same commit)", "nodes adopt")
    na.add_argument("name", metavar="NAME")
    na.add_argument("tag", metavar="TAG")
    nr = leaf(nsub, "rm", "remove a node", "nodes rm")
    nr.add_argument("name", metavar="NAME")
    nr.add_argument("--yes", action="store_true", help="do not ask")

    au = leaf(sub, "audit", "a version's packages, the node that brought each, advisories")
    au.add_argument("tag", metavar="TAG")

    sn = group("snapshot", "environment snapshots and rollback")
    snsub = sn.add_subparsers(dest="snapshot_command", metavar="ACTION", required=True)
    leaf(snsub, "list", "list snapshots of a version", "snapshot list").add_argument("tag")
    leaf(snsub, "create", "snapshot a version now", "snapshot create").add_argument("tag")
    sr = leaf(snsub, "restore", "restore a snapshot", "snapshot restore")
    sr.add_argument("tag", metavar="TAG")
    sr.add_argument("id", metavar="ID", nargs="?", help="default: the newest snapshot")
    sr.add_argument("--yes", action="store_true", help="do not ask")
    tr = group("trash", "what remove put aside: list, restore, empty")
    trsub = tr.add_subparsers(dest="trash_command", metavar="ACTION", required=True)
    leaf(trsub, "list", "list the trash, newest first", "trash list")
    leaf(trsub, "restore", "put an entry back", "trash restore").add_argument("id", metavar="ID")
    leaf(trsub, "empty", "delete everything in the trash", "trash empty").add_argument(
        "--yes", action="store_true", help="do not ask"
    )
    fl = leaf(sub, "fleet", "every configured host's GPUs, instances and disk, over SSH")
    fl.add_argument(
        "action",
        nargs="?",
        choices=("install", "stop"),
        help="on every chosen host: install TAG, or stop every instance (each host reported)",
    )
    fl.add_argument("tag_arg", nargs="?", metavar="TAG", help="with install: the version")
    fl.add_argument("--host", action="append", metavar="NAME", help="only this host (repeatable)")
    fl.add_argument("--tag", action="append", metavar="TAG", help="only hosts with this tag")
    if top is not None and top != NO_COMMAND and top not in sub.choices:
        return build_parser()
    if only is not None and " " in only and only not in built and top not in built:
        return build_parser(top)  # a group's unknown action ("models bogus"): all its actions
    return p

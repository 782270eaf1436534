"""Asking y/N on a terminal; a script must say `--yes` (or the like) instead."""

from __future__ import annotations

import sys

from comfy_tui.cli.output import err
from comfy_tui.errors import ValidationError


def ask(question: str) -> bool:
    """y/N on stderr, the answer from stdin; anything but y/yes is no."""
    err(f"{question} [y/N] ")
    try:
        answer = sys.stdin.readline()
    except (OSError, KeyboardInterrupt):
        return False
    return answer.strip().lower() in ("y", "yes")


def confirmed(question: str, *, yes: bool, needs: str) -> bool:
    """True with `yes`; else ask on a terminal; without one, ValidationError naming `needs`
    (e.g. "enabling X changes packages: run it on a terminal or add --yes")."""
    if yes:
        return True
    if not sys.stdin.isatty():
        raise ValidationError(needs)
    return ask(question)


def terminal() -> bool:
    return sys.stdin.isatty()

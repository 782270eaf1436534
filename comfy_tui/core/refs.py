"""Git refs a user may install from: a tag, a branch or a commit id, and the names they get.

`validate_ref` accepts what git accepts as a branch or tag name that is also safe as a git
argument (never an option, no `..`, no `@{`, no control characters); a commit id is 7-40 hex
digits. `default_name` names the version of a ref that is not a tag: ``master-1a2b3c4`` (the
branch, `/` as `-`, then the short commit), or the short commit alone for a commit id.

Pure: no I/O.
"""

from __future__ import annotations

import re
from typing import Literal

from comfy_tui.errors import ValidationError

__all__ = ["SHORT", "RefKind", "default_name", "is_commit_id", "short", "validate_ref"]

RefKind = Literal["tag", "branch", "commit"]
SHORT = 7
"""Digits of a short commit id in names and listings."""

_REF_CHARS = re.compile(r"[A-Za-z0-9._+/-]+", re.ASCII)
_HEX = re.compile(r"[0-9a-f]{7,40}", re.ASCII)
_REF_MAX = 200


def validate_ref(ref: str) -> str:
    """A tag, branch or commit id to install or update to; ValidationError (one line)."""
    if not isinstance(ref, str) or not ref:
        raise ValidationError("invalid version tag or git ref: it is empty")
    shown = repr(ref[:80])
    bad = f"invalid version tag or git ref {shown}"
    if ref.startswith("-"):
        raise ValidationError(f"{bad}: it must not start with '-' (git would read it as an option)")
    if not _REF_CHARS.fullmatch(ref):
        raise ValidationError(f"{bad}: use letters, digits, '.', '-', '_', '+' and '/' only")
    if len(ref) > _REF_MAX:
        raise ValidationError(f"{bad}: it is longer than {_REF_MAX} characters")
    if ".." in ref or "//" in ref or ref.endswith(("/", ".", ".lock")) or ref.startswith("/"):
        raise ValidationError(
            f"{bad}: not a git ref name (no '..', '//', leading or trailing '/', "
            "trailing '.' or '.lock')"
        )
    if any(part.startswith(".") for part in ref.split("/")):
        raise ValidationError(f"{bad}: no part of it may start with '.'")
    return ref


def is_commit_id(ref: str) -> bool:
    """7 to 40 lower-case hex digits: a (possibly short) commit id."""
    return bool(_HEX.fullmatch(ref))


def short(commit: str) -> str:
    return commit[:SHORT]


def default_name(ref: str, kind: RefKind, commit: str) -> str:
    """The version name of `ref`: the tag itself, `<branch>-<short commit>`, or the short
    commit; always a valid version tag (letters, digits, '.', '-', '_', '+')."""
    if kind == "tag":
        return ref
    if kind == "commit":
        return short(commit)
    return f"{ref.replace('/', '-')}-{short(commit)}"

"""Validators for everything that comes from a user, a settings file or a remote peer.

Each validator returns the normalised value or raises `ValidationError` whose message is
one line naming the bad value and saying what is expected, for example::

    invalid version tag 'v1 2': use letters, digits, '.', '-', '_' and '+' only

They are pure functions; only the path checks touch the file system, to resolve
symlinks that already exist.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
import urllib.parse
from pathlib import Path, PurePosixPath

from comfy_tui.core.url_secrets import redact_url
from comfy_tui.errors import ValidationError

__all__ = [
    "ensure_inside",
    "is_loopback_host",
    "safe_relpath",
    "validate_env",
    "validate_env_assignment",
    "validate_env_name",
    "validate_env_value",
    "validate_filename",
    "validate_gpu_index",
    "validate_listen",
    "validate_port",
    "validate_repo_id",
    "validate_tag",
    "validate_url",
]

_MAX_SHOWN = 80
"""Longest slice of a bad value that is quoted back in a message."""


def _show(value: object) -> str:
    """Quote a bad value for a one-line message: control characters escaped, long values cut."""
    if not isinstance(value, str):
        return str(value)[:_MAX_SHOWN]
    if len(value) > _MAX_SHOWN:
        return repr(value[:_MAX_SHOWN]) + "..."
    return repr(value)


def _has_control_or_space(text: str) -> bool:
    """True when `text` holds whitespace, a control, format or separator character."""
    return any(ch.isspace() or unicodedata.category(ch)[0] in "CZ" for ch in text)


def _require_str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(f"invalid {what} {_show(value)}: expected text")
    return value


# --------------------------------------------------------------------------- tags

_TAG_CHARS = re.compile(r"[A-Za-z0-9._+-]*", re.ASCII)
_TAG_MAX = 100


def validate_tag(tag: str) -> str:
    """Check a git tag / version name such as ``v0.3.77`` or ``v0.4.0-rc1``.

    Tags become directory names and git arguments, so only ASCII letters, digits,
    ``.``, ``-``, ``_`` and ``+`` are allowed; the name starts with a letter or digit,
    is at most 100 characters, holds no ``..`` and does not end with ``.`` or ``.lock``.
    """
    what = "version tag"
    tag = _require_str(tag, what)
    bad = f"invalid {what} {_show(tag)}"
    if not tag:
        raise ValidationError(f"invalid {what}: it is empty")
    if tag.startswith("-"):
        raise ValidationError(f"{bad}: it must not start with '-' (git would read it as an option)")
    if not _TAG_CHARS.fullmatch(tag):
        raise ValidationError(f"{bad}: use letters, digits, '.', '-', '_' and '+' only")
    if not tag[0].isalnum():
        raise ValidationError(f"{bad}: it must start with a letter or a digit")
    if len(tag) > _TAG_MAX:
        raise ValidationError(f"{bad}: it is longer than {_TAG_MAX} characters")
    if ".." in tag:
        raise ValidationError(f"{bad}: it must not contain '..'")
    if tag.endswith("."):
        raise ValidationError(f"{bad}: it must not end with '.'")
    if tag.endswith(".lock"):
        raise ValidationError(f"{bad}: it must not end with '.lock'")
    return tag


# --------------------------------------------------------------------------- hosts

_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?", re.ASCII)
_URL_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?", re.ASCII)
_SCOPE_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}", re.ASCII)


def _is_hostname(host: str, label: re.Pattern[str]) -> bool:
    """True when `host` is a DNS name whose labels all match `label` (one trailing dot allowed).

    A name whose last label is all digits is refused: it is a malformed IPv4 address.
    """
    name = host[:-1] if host.endswith(".") else host
    if not name or len(name) > 253:
        return False
    labels = name.split(".")
    if not all(label.fullmatch(part) for part in labels):
        return False
    return not labels[-1].isdigit()


def _to_ascii_host(host: str) -> str:
    """`host` in its ASCII (IDNA) form; an empty string when it has none."""
    if host.isascii():
        return host
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return ""


def _parse_ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address `host` spells (brackets around IPv6 allowed), or None."""
    text = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def is_loopback_host(host: str) -> bool:
    """True for ``localhost``, any address in 127.0.0.0/8, ``::1`` (also ``[::1]``)."""
    if host.lower() in ("localhost", "localhost."):
        return True
    ip = _parse_ip(host)
    if ip is None:
        return False
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.scope_id is not None:
            return False
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


# --------------------------------------------------------------------------- URLs


def validate_url(url: str, *, allow_local: bool = False, what: str = "URL") -> str:
    """Check a download or API URL and return it unchanged.

    Only ``https://`` URLs with a host are accepted. With `allow_local` (a URL the user
    configured, such as a mirror) ``file://`` URLs with an absolute path and ``http://``
    URLs to a loopback host are accepted as well. Credentials in the URL are refused:
    tokens belong in the settings. `what` names the URL in messages (``mirror URL``).
    """
    url = _require_str(url, what)
    if not url:
        raise ValidationError(f"invalid {what}: it is empty")
    bad = f"invalid {what} {_show(redact_url(url))}"
    if _has_control_or_space(url):
        raise ValidationError(f"{bad}: it must not contain whitespace or control characters")
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
        has_credentials = parts.username is not None or parts.password is not None
    except ValueError as exc:
        reason = str(exc)
        raise ValidationError(f"{bad}: {reason[:1].lower()}{reason[1:]}") from None
    scheme = parts.scheme.lower()
    expected = "use https://" + (", http:// to a loopback host or file://" if allow_local else "")

    if has_credentials or "@" in parts.netloc:
        raise ValidationError(
            f"{bad}: it must not contain a user name or password (put tokens in the settings)"
        )

    if scheme == "file":
        if not allow_local:
            raise ValidationError(f"{bad}: {expected}")
        if parts.netloc not in ("", "localhost"):
            raise ValidationError(f"{bad}: a file:// URL must name a local path (file:///path)")
        if not parts.path.startswith("/"):
            raise ValidationError(f"{bad}: a file:// URL must hold an absolute path")
        return url

    if scheme not in ("https", "http"):
        raise ValidationError(f"{bad}: {expected}")

    host = parts.hostname
    if not host:
        raise ValidationError(f"{bad}: it has no host name")
    if _parse_ip(host) is None and not _is_hostname(_to_ascii_host(host), _URL_LABEL):
        raise ValidationError(f"{bad}: {host!r} is not a valid host name")
    if port == 0:
        raise ValidationError(f"{bad}: port 0 is not a valid port")

    if scheme == "http" and not (allow_local and is_loopback_host(host)):
        if allow_local:
            raise ValidationError(f"{bad}: http:// is only allowed to a loopback host; {expected}")
        raise ValidationError(f"{bad}: {expected}")
    return url


# --------------------------------------------------------------------------- HF repo ids

_REPO_PART = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?", re.ASCII)
_REPO_PART_MAX = 96


def validate_repo_id(repo_id: str) -> str:
    """Check a Hugging Face repo id, ``owner/name`` or a bare legacy ``name`` (``gpt2``).

    Mirrors ``huggingface_hub.utils.validate_repo_id``: each part is 1 to 96 ASCII
    letters, digits, ``_``, ``-`` or ``.``, starts and ends with a letter, digit or
    ``_``; the id holds no ``--`` or ``..`` and does not end with ``.git``.
    """
    what = "Hugging Face repo id"
    repo_id = _require_str(repo_id, what)
    if not repo_id:
        raise ValidationError(f"invalid {what}: it is empty")
    bad = f"invalid {what} {_show(repo_id)}"
    parts = repo_id.split("/")
    if len(parts) > 2:
        raise ValidationError(f"{bad}: use 'owner/name' or 'name'")
    for part in parts:
        if not part:
            raise ValidationError(f"{bad}: use 'owner/name' or 'name' (a part is empty)")
        if len(part) > _REPO_PART_MAX:
            raise ValidationError(f"{bad}: each part must be at most {_REPO_PART_MAX} characters")
        if not _REPO_PART.fullmatch(part):
            raise ValidationError(
                f"{bad}: use letters, digits, '-', '_' and '.' only,"
                " not starting or ending with '-' or '.'"
            )
    if "--" in repo_id or ".." in repo_id:
        raise ValidationError(f"{bad}: it must not contain '--' or '..'")
    if repo_id.endswith(".git"):
        raise ValidationError(f"{bad}: it must not end with '.git'")
    return repo_id


# --------------------------------------------------------------------------- paths


def _resolve(path: Path, shown: str, what: str) -> Path:
    try:
        return path.resolve(strict=False)
    except (OSError, RuntimeError, ValueError) as exc:
        raise ValidationError(f"path {shown} cannot be resolved inside {what}: {exc}") from None


def _check_inside(base: Path, target: Path, shown: str, what: str) -> None:
    """Raise unless `target`, symlinks resolved, lies strictly inside `base` resolved."""
    try:
        base_real = base.resolve(strict=False)
    except (OSError, RuntimeError, ValueError) as exc:
        raise ValidationError(f"{what} {_show(str(base))} cannot be resolved: {exc}") from None
    real = _resolve(target, shown, what)
    if real == base_real:
        raise ValidationError(f"path {shown} is {what} itself, not a path inside it")
    if not real.is_relative_to(base_real):
        raise ValidationError(f"path {shown} escapes {what}")


def safe_relpath(base: Path, rel: str | Path, *, what: str = "the library") -> Path:
    """Return the absolute path ``base/rel`` when it stays strictly inside `base`.

    `rel` must be relative, non-empty, free of NUL and backslash characters and of
    ``..`` components, and the joined path, with existing symlinks followed, must lie
    inside ``base.resolve()`` (`base` itself is refused). `what` names `base` in messages.
    """
    text = str(rel) if isinstance(rel, Path) else _require_str(rel, "path")
    shown = _show(text)
    if not text:
        raise ValidationError(f"invalid path: it is empty; expected a path inside {what}")
    if "\x00" in text:
        raise ValidationError(f"invalid path {shown}: it must not contain NUL characters")
    if "\\" in text:
        raise ValidationError(f"invalid path {shown}: use '/' to separate folders, not '\\'")
    pure = PurePosixPath(text)
    if pure.is_absolute():
        raise ValidationError(f"path {shown} escapes {what}: expected a relative path")
    if ".." in pure.parts:
        raise ValidationError(f"path {shown} escapes {what}: '..' is not allowed")
    joined = base.absolute().joinpath(*pure.parts)
    _check_inside(base, joined, shown, what)
    return joined


def ensure_inside(base: Path, path: Path, *, what: str = "the library") -> Path:
    """Return the absolute `path` unchanged when, symlinks followed, it lies inside `base`.

    `base` itself is refused. `what` names `base` in messages.
    """
    text = str(path)
    shown = _show(text)
    if "\x00" in text:
        raise ValidationError(f"invalid path {shown}: it must not contain NUL characters")
    if not path.is_absolute():
        raise ValidationError(f"invalid path {shown}: expected an absolute path")
    _check_inside(base, path, shown, what)
    return path


# --------------------------------------------------------------------------- numbers

_DECIMAL = re.compile(r"[0-9]{1,10}", re.ASCII)


def _whole_number(value: object, bad: str, expected: str) -> int:
    """`value` as an int: an int (not a bool) or a string of ASCII decimal digits."""
    if isinstance(value, bool):
        raise ValidationError(f"{bad}: {expected}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return int(value)
    raise ValidationError(f"{bad}: {expected}")


def validate_port(port: int | str) -> int:
    """Check a TCP port: an int or a decimal string from 1 to 65535."""
    value: object = port
    bad = f"invalid port {_show(value)}"
    expected = "use a whole number from 1 to 65535"
    number = _whole_number(value, bad, expected)
    if not 1 <= number <= 65535:
        raise ValidationError(f"{bad}: {expected}")
    return number


def validate_gpu_index(index: int | str, count: int | None = None) -> int:
    """Check a GPU index: 0 or above, and below `count` (the GPUs this box has) when given."""
    value: object = index
    number = _whole_number(
        value, f"invalid GPU index {_show(value)}", "use a whole number, 0 or above"
    )
    if number < 0:
        raise ValidationError(f"invalid GPU index {number}: use a whole number, 0 or above")
    if count is not None and number >= count:
        if count <= 0:
            raise ValidationError(f"GPU {number} does not exist: this box has no GPUs")
        if count == 1:
            raise ValidationError(f"GPU {number} does not exist: this box has 1 GPU (0)")
        raise ValidationError(
            f"GPU {number} does not exist: this box has {count} GPUs (0-{count - 1})"
        )
    return number


# --------------------------------------------------------------------------- environment

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
ENV_HINT = "use KEY=VALUE, KEY a letter or _ followed by letters, digits or _"


def validate_env_name(name: str) -> str:
    """Check the name of an environment variable handed to an instance (e.g. `HF_HOME`)."""
    if not isinstance(name, str) or not _ENV_NAME.fullmatch(name):
        raise ValidationError(f"invalid environment variable name {_show(name)}: {ENV_HINT}")
    return name


def validate_env_value(name: str, value: str) -> str:
    """A value for `name`: any text without NUL (never shown: it may be a token)."""
    if not isinstance(value, str) or "\0" in value:
        raise ValidationError(f"the value of {name} must be text without NUL characters")
    return value


def validate_env_assignment(text: str) -> tuple[str, str]:
    """`KEY=VALUE` (`launch --env`, the launch dialog) -> (KEY, VALUE); the value is never
    echoed in an error, as it may be a token."""
    name, sep, value = text.partition("=") if isinstance(text, str) else ("", "", "")
    if not sep:
        raise ValidationError(f"invalid environment setting (no '='): {ENV_HINT}")
    return validate_env_name(name), validate_env_value(name, value)


def validate_env(env: dict[str, str]) -> dict[str, str]:
    """Every name and value of an instance's environment."""
    return {validate_env_name(k): validate_env_value(k, v) for k, v in env.items()}


# --------------------------------------------------------------------------- listen


def validate_listen(addr: str) -> str:
    """Check one address for ComfyUI's ``--listen``: an IPv4/IPv6 address or a host name.

    Host names follow RFC 1123 (labels of letters, digits and inner ``-``, at most 63
    characters each, 253 in all). IP addresses come back in their compressed form and
    host names in lower case.
    """
    what = "listen address"
    addr = _require_str(addr, what)
    if not addr:
        raise ValidationError(f"invalid {what}: it is empty")
    bad = f"invalid {what} {_show(addr)}"
    if "," in addr:
        raise ValidationError(f"{bad}: give a single address, not a list")
    if _has_control_or_space(addr):
        raise ValidationError(f"{bad}: it must not contain whitespace or control characters")
    ip_text, sep, scope = addr.partition("%")
    if sep and not _SCOPE_ID.fullmatch(scope):
        raise ValidationError(f"{bad}: use an IP address or a host name")
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        ip = None
    if ip is not None:
        return str(ip)
    if not sep and _is_hostname(ip_text, _LABEL):
        return addr.lower()
    if all(ch.isdigit() or ch == "." for ch in addr) or ":" in addr:
        raise ValidationError(f"{bad}: it is not a valid IP address")
    raise ValidationError(f"{bad}: use an IP address or a host name")


# --------------------------------------------------------------------------- file names

_FILENAME_MAX_BYTES = 255
_FILENAME_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
"""Control, format (bidi overrides, zero-width) and line-break characters."""


def validate_filename(name: str) -> str:
    """Check a single file name that is safe to create in a folder.

    Refuses empty names, ``.`` and ``..``, hidden names (leading ``.``), ``/``, ``\\``,
    NUL and other control characters, invisible format characters (such as bidi
    overrides), text that is not valid UTF-8, and names over 255 bytes in UTF-8.
    """
    what = "file name"
    name = _require_str(name, what)
    if not name:
        raise ValidationError(f"invalid {what}: it is empty")
    bad = f"invalid {what} {_show(name)}"
    if "/" in name or "\\" in name:
        raise ValidationError(f"{bad}: it must not contain '/' or '\\'")
    if any(unicodedata.category(ch) in _FILENAME_BAD_CATEGORIES for ch in name):
        raise ValidationError(f"{bad}: it must not contain control or invisible format characters")
    if name in (".", ".."):
        raise ValidationError(f"{bad}: expected a file name")
    if name.startswith("."):
        raise ValidationError(f"{bad}: it must not start with '.' (hidden file)")
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        raise ValidationError(f"{bad}: it is not valid UTF-8") from None
    if size > _FILENAME_MAX_BYTES:
        raise ValidationError(f"{bad}: it is longer than {_FILENAME_MAX_BYTES} bytes")
    return name

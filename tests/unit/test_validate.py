"""Tests for comfy_tui.validate: examples for every validator plus the spec's properties."""

from __future__ import annotations

import os
import shutil
import string
import tempfile
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from comfy_tui.errors import ValidationError
from comfy_tui.validate import (
    ensure_inside,
    is_loopback_host,
    safe_relpath,
    validate_filename,
    validate_gpu_index,
    validate_listen,
    validate_port,
    validate_repo_id,
    validate_tag,
    validate_url,
)

PROPERTY = settings(max_examples=300, deadline=None)

# Characters no accepted tag may hold: whitespace, shell metacharacters, path separators.
TAG_FORBIDDEN = set(";&|$`'\"<>(){}[]*?!~^:\\/#%@=,") | set(string.whitespace) | {"\x00"}


def _message(exc: pytest.ExceptionInfo[ValidationError]) -> str:
    text = str(exc.value)
    assert "\n" not in text, "messages must be one line"
    return text


# --------------------------------------------------------------------------- tags


@pytest.mark.parametrize(
    "tag", ["v0.3.77", "v0.45.2", "v0.4.0-rc1", "1.0.0+build.5", "release_2024", "latest", "a"]
)
def test_validate_tag_accepts_real_tags(tag: str) -> None:
    assert validate_tag(tag) == tag


@pytest.mark.parametrize(
    ("tag", "reason"),
    [
        ("", "empty"),
        ("v1 2", "use letters, digits, '.', '-', '_' and '+' only"),
        ("v1\t2", "use letters"),
        ("v1\n", "use letters"),
        ("v1;rm -rf", "use letters"),
        ("$(id)", "use letters"),
        ("`id`", "use letters"),
        ("a|b", "use letters"),
        ("a&b", "use letters"),
        ("a/b", "use letters"),
        ("a\\b", "use letters"),
        ("a:b", "use letters"),
        ("a~1", "use letters"),
        ("a^1", "use letters"),
        ("a@{1}", "use letters"),
        ("vé", "use letters"),
        ("-v1", "must not start with '-'"),
        ("--upload-pack=x", "must not start with '-'"),
        (".v1", "must start with a letter or a digit"),
        ("_v1", "must start with a letter or a digit"),
        ("v1..2", "'..'"),
        ("v1.", "must not end with '.'"),
        ("v1.lock", "'.lock'"),
        ("v" * 101, "longer than 100"),
    ],
)
def test_validate_tag_rejects(tag: str, reason: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_tag(tag)
    text = _message(exc)
    assert reason in text
    assert text.startswith("invalid version tag")
    if tag and len(tag) <= 80:
        assert repr(tag) in text


def test_validate_tag_message_matches_spec_example() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_tag("v1 2")
    assert str(exc.value) == (
        "invalid version tag 'v1 2': use letters, digits, '.', '-', '_' and '+' only"
    )


def test_validate_tag_exit_code() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_tag("bad tag")
    assert exc.value.exit_code == 2


_TAG_LIKE = st.lists(
    st.sampled_from([*"aZ09._+-", *";&|$`'\"<>(){}[]*?!~^: /\\\t\n", "..", ".lock", "v0.3"]),
    max_size=12,
).map("".join)


@PROPERTY
@given(
    st.one_of(
        st.text(), _TAG_LIKE, st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,30}", fullmatch=True)
    )
)
def test_property_no_accepted_tag_contains_metacharacters(tag: str) -> None:
    try:
        result = validate_tag(tag)
    except ValidationError as exc:
        event("rejected")
        assert "\n" not in str(exc)
        return
    assert result == tag
    assert not TAG_FORBIDDEN & set(result)
    assert not any(ch.isspace() for ch in result)
    assert result.isascii() and result.isprintable()
    assert not result.startswith("-")
    assert ".." not in result
    assert not result.endswith((".", ".lock"))
    assert 1 <= len(result) <= 100


# --------------------------------------------------------------------------- URLs


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/comfyanonymous/ComfyUI",
        "https://huggingface.co/org/model/resolve/main/x.safetensors?download=true",
        "https://example.com:8443/path#frag",
        "https://[2001:db8::1]/x",
        "https://10.0.0.5/mirror",
        "HTTPS://EXAMPLE.COM/",
        "https://bücher.example/x",
    ],
)
def test_validate_url_accepts_https(url: str) -> None:
    assert validate_url(url) == url
    assert validate_url(url, allow_local=True) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8188/",
        "http://127.9.9.9/mirror",
        "http://localhost/x",
        "http://LOCALHOST:9000/",
        "http://[::1]:8080/",
        "file:///srv/mirror/comfyui.git",
        "file://localhost/srv/mirror",
    ],
)
def test_validate_url_local_only_with_allow_local(url: str) -> None:
    assert validate_url(url, allow_local=True) == url
    with pytest.raises(ValidationError) as exc:
        validate_url(url)
    assert "use https://" in _message(exc)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("", "empty"),
        ("http://example.com/", "use https://"),
        ("ftp://example.com/x", "use https://"),
        ("javascript:alert(1)", "use https://"),
        ("data:text/plain,hi", "use https://"),
        ("example.com/x", "use https://"),
        ("https://", "no host"),
        ("https:///path", "no host"),
        ("https:example.com", "no host"),
        ("https://exa mple.com/", "whitespace"),
        ("https://example.com/\n", "whitespace or control"),
        ("https://example.com/\x00", "control"),
        ("https://example.com:99999/", "port"),
        ("https://example.com:0/", "port 0"),
        ("https://example.com:abc/", "port"),
        ("https://[::1/", "invalid IPv6"),
        ("https://exa%41mple.com/", "not a valid host name"),
        ("https://exa;mple.com/", "not a valid host name"),
        ("https://user@example.com/", "user name or password"),
        ("https://@example.com/", "user name or password"),
    ],
)
def test_validate_url_rejects(url: str, reason: str) -> None:
    for allow_local in (False, True):
        with pytest.raises(ValidationError) as exc:
            validate_url(url, allow_local=allow_local)
        text = _message(exc)
        assert reason in text
        assert text.startswith("invalid URL")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://192.168.1.2/", "loopback"),
        ("http://example.com/", "loopback"),
        ("http://127.0.0.1.evil.com/", "loopback"),
        ("http://localhost.evil.com/", "loopback"),
        ("file://server/share", "local path"),
        ("file:relative/path", "absolute path"),
        ("ftp://127.0.0.1/", "use https://"),
    ],
)
def test_validate_url_allow_local_still_rejects(url: str, reason: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_url(url, allow_local=True)
    assert reason in _message(exc)


def test_validate_url_credentials_are_redacted_in_message() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_url("https://alice:s3cret@example.com/x", what="mirror URL")
    text = _message(exc)
    assert "s3cret" not in text
    assert text.startswith("invalid mirror URL 'https://***@example.com/x'")
    assert "settings" in text


def test_validate_url_message_names_the_value_and_what() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_url("ftp://x.org/", what="download URL")
    assert str(exc.value).startswith("invalid download URL 'ftp://x.org/'")


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("localhost", True),
        ("LocalHost", True),
        ("localhost.", True),
        ("127.0.0.1", True),
        ("127.255.0.3", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("localhost..", False),
        ("foo.localhost", False),
        ("128.0.0.1", False),
        ("0.0.0.0", False),
        ("::", False),
        ("127.1", False),
        ("example.com", False),
        ("", False),
    ],
)
def test_is_loopback_host(host: str, expected: bool) -> None:
    assert is_loopback_host(host) is expected


_URL_SCHEMES = ["https://", "http://", "HTTP://", "file://"]
_URL_HOSTS = ["example.com", "127.0.0.1", "localhost", "[::1]", "10.1.2.3", "xn--bcher-kva.de"]
_URL_PORTS = ["", ":80", ":8443"]
_URL_PATHS = ["", "/", "/a/b", "?q=1", "#f"]


def _url(
    schemes: list[str], creds: list[str], hosts: list[str], ports: list[str], paths: list[str]
) -> st.SearchStrategy[str]:
    return st.builds(
        lambda *parts: "".join(parts),
        st.sampled_from(schemes),
        st.sampled_from(creds),
        st.sampled_from(hosts),
        st.sampled_from(ports),
        st.sampled_from(paths),
    )


_URL_LIKE = st.one_of(
    _url(_URL_SCHEMES, [""], _URL_HOSTS, _URL_PORTS, _URL_PATHS),
    _url(
        [*_URL_SCHEMES, "file:", "ftp://", "javascript:", "", "//", "https:", "data:"],
        ["", "u@", "u:p@", "@", ":@"],
        [*_URL_HOSTS, "", "a b", "ex;am", "/", "[::1", "127.0.0.1.evil", "%41", "\x00"],
        [*_URL_PORTS, ":0", ":x", ":70000", ":"],
        [*_URL_PATHS, "/\x00", "/ x", "/\n"],
    ),
)


@PROPERTY
@given(st.one_of(_URL_LIKE, st.text(max_size=40)))
def test_property_validate_url_strict_accepts_only_https(url: str) -> None:
    try:
        result = validate_url(url)
    except ValidationError as exc:
        event("rejected")
        assert "\n" not in str(exc)
        return
    assert result == url
    parts = urllib.parse.urlsplit(result)
    assert parts.scheme == "https"
    assert parts.hostname
    assert parts.username is None and parts.password is None
    assert not any(ch.isspace() or ord(ch) < 32 for ch in result)


@PROPERTY
@given(st.one_of(_URL_LIKE, st.text(max_size=40)))
def test_property_validate_url_local_accepts_only_https_loopback_or_file(url: str) -> None:
    try:
        result = validate_url(url, allow_local=True)
    except ValidationError:
        event("rejected")
        return
    parts = urllib.parse.urlsplit(result)
    assert parts.username is None and parts.password is None
    if parts.scheme == "https":
        assert parts.hostname
    elif parts.scheme == "http":
        assert parts.hostname is not None and is_loopback_host(parts.hostname)
    else:
        assert parts.scheme == "file"
        assert parts.path.startswith("/")
        assert parts.netloc in ("", "localhost")


# --------------------------------------------------------------------------- repo ids


@pytest.mark.parametrize(
    "repo_id",
    [
        "gpt2",
        "stabilityai/stable-diffusion-xl-base-1.0",
        "Comfy-Org/flux1-dev",
        "black-forest-labs/FLUX.1-dev",
        "foo/bar_baz",
        "123",
        "_private/x_",
        "a" * 96 + "/" + "b" * 96,
    ],
)
def test_validate_repo_id_accepts(repo_id: str) -> None:
    assert validate_repo_id(repo_id) == repo_id


@pytest.mark.parametrize(
    ("repo_id", "reason"),
    [
        ("", "empty"),
        ("datasets/foo/bar", "'owner/name' or 'name'"),
        ("/foo", "a part is empty"),
        ("foo/", "a part is empty"),
        (".repo", "not starting or ending"),
        ("repo.", "not starting or ending"),
        ("-repo", "not starting or ending"),
        ("org/repo-", "not starting or ending"),
        ("foo bar", "use letters"),
        ("foo/bär", "use letters"),
        ("foo;rm", "use letters"),
        ("foo--bar", "'--' or '..'"),
        ("foo/a..b", "'--' or '..'"),
        ("foo.git", "'.git'"),
        ("org/foo.git", "'.git'"),
        ("a" * 97, "at most 96"),
        ("org/" + "a" * 97, "at most 96"),
    ],
)
def test_validate_repo_id_rejects(repo_id: str, reason: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_repo_id(repo_id)
    text = _message(exc)
    assert reason in text
    if repo_id and len(repo_id) <= 80:
        assert repr(repo_id) in text


# --------------------------------------------------------------------------- paths


@pytest.fixture(scope="module")
def library() -> Iterator[tuple[Path, Path]]:
    """A base dir with symlinks pointing outside, inside, up and in a loop; plus the outside dir.

    Module-scoped (not tmp_path) so hypothesis tests may use it.
    """
    root = Path(tempfile.mkdtemp(prefix="comfy-tui-validate-"))
    base = root / "base"
    outside = root / "outside"
    (base / "sub" / "deep").mkdir(parents=True)
    outside.mkdir()
    (base / "file.txt").write_text("x")
    (base / "out").symlink_to(outside)
    (base / "in").symlink_to(base / "sub")
    (base / "up").symlink_to("..")
    (base / "self").symlink_to(".")
    (base / "etc").symlink_to("/etc")
    (base / "loop").symlink_to("loop")
    (base / "sub" / "back").symlink_to("../..")
    (base / "dangling").symlink_to(root / "missing")
    try:
        yield base, outside
    finally:
        shutil.rmtree(root)


@pytest.mark.parametrize(
    "rel",
    [
        "file.txt",
        "sub",
        "sub/deep/new.safetensors",
        "in/deep",
        "./sub/x",
        "sub//x",
        "~",
        "a b",
        "new",
        "up/base/sub",
    ],
)
def test_safe_relpath_accepts(library: tuple[Path, Path], rel: str) -> None:
    base, _ = library
    result = safe_relpath(base, rel)
    assert result.is_absolute()
    assert result == base.joinpath(*Path(rel).parts)
    assert result.resolve().is_relative_to(base.resolve())


def test_safe_relpath_accepts_path_objects(library: tuple[Path, Path]) -> None:
    base, _ = library
    assert safe_relpath(base, Path("sub/x")) == base / "sub" / "x"


def test_safe_relpath_makes_relative_base_absolute(
    library: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, _ = library
    monkeypatch.chdir(base.parent)
    assert safe_relpath(Path("base"), "sub/x") == base / "sub" / "x"


@pytest.mark.parametrize(
    ("rel", "reason"),
    [
        ("", "empty"),
        (".", "the library itself"),
        ("self", "the library itself"),
        ("sub/..", "'..'"),
        ("../x", "'..'"),
        ("sub/../../x", "'..'"),
        ("/etc/passwd", "escapes the library"),
        ("//etc", "escapes the library"),
        ("out", "escapes the library"),
        ("out/x", "escapes the library"),
        ("etc/passwd", "escapes the library"),
        ("up", "escapes the library"),
        ("sub/back/x", "escapes the library"),
        ("dangling", "escapes the library"),
        ("a\x00b", "NUL"),
        ("..\\x", "'\\'"),
        ("loop/x", "cannot be resolved"),
    ],
)
def test_safe_relpath_rejects(library: tuple[Path, Path], rel: str, reason: str) -> None:
    base, _ = library
    with pytest.raises(ValidationError) as exc:
        safe_relpath(base, rel)
    text = _message(exc)
    assert reason in text
    if rel:
        assert repr(rel) in text


def test_safe_relpath_message_names_the_path_and_what(library: tuple[Path, Path]) -> None:
    base, _ = library
    with pytest.raises(ValidationError) as exc:
        safe_relpath(base, "out/model.bin")
    assert str(exc.value) == "path 'out/model.bin' escapes the library"
    with pytest.raises(ValidationError) as exc:
        safe_relpath(base, "out/model.bin", what="the instance folder")
    assert str(exc.value) == "path 'out/model.bin' escapes the instance folder"


def test_ensure_inside(library: tuple[Path, Path]) -> None:
    base, outside = library
    assert ensure_inside(base, base / "sub" / "x") == base / "sub" / "x"
    assert ensure_inside(base, base / "in" / "x") == base / "in" / "x"
    assert ensure_inside(base, base / "sub" / ".." / "file.txt") == base / "sub" / ".." / "file.txt"
    for bad in (outside / "x", base / "out" / "x", base / ".." / "outside", Path("/etc"), base):
        with pytest.raises(ValidationError):
            ensure_inside(base, bad)
    with pytest.raises(ValidationError, match="absolute path"):
        ensure_inside(base, Path("sub/x"))
    with pytest.raises(ValidationError, match="NUL"):
        ensure_inside(base, base / "a\x00b")


_PATH_TOKENS = st.sampled_from(
    [
        ".",
        "/",
        "..",
        "a",
        "\x00",
        "~",
        " ",
        "out",
        "in",
        "up",
        "self",
        "etc",
        "sub",
        "back",
        "loop",
        "dangling",
        "file.txt",
        "\\",
        "//",
    ]
)
_ABS_PREFIXES = st.sampled_from(["", "", "", "/", "//", "/tmp/", "/etc/", "~/"])


@PROPERTY
@given(prefix=_ABS_PREFIXES, tokens=st.lists(_PATH_TOKENS, max_size=8), as_path=st.booleans())
def test_property_no_accepted_path_resolves_outside_base(
    library: tuple[Path, Path], prefix: str, tokens: list[str], as_path: bool
) -> None:
    base, _ = library
    rel_text = prefix + "".join(tokens)
    rel: str | Path = rel_text
    if as_path:
        if "\x00" in rel_text:
            return
        rel = Path(rel_text)
    try:
        result = safe_relpath(base, rel)
    except ValidationError as exc:
        event("rejected")
        assert "\n" not in str(exc)
        return
    assert result.is_absolute()
    real = Path(os.path.realpath(result))
    base_real = base.resolve()
    assert real.is_relative_to(base_real)
    assert real != base_real
    assert ensure_inside(base, result) == result


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize(
    ("port", "expected"), [(1, 1), (80, 80), ("8188", 8188), (65535, 65535), ("0080", 80)]
)
def test_validate_port_accepts(port: int | str, expected: int) -> None:
    assert validate_port(port) == expected


@pytest.mark.parametrize(
    "port", [0, -1, 65536, "0", "65536", "", "80a", " 80", "80 ", "+80", "-80", "8_0", "0x50", "٨٠"]
)
def test_validate_port_rejects(port: int | str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_port(port)
    text = _message(exc)
    assert "from 1 to 65535" in text
    assert str(port) in text


@pytest.mark.parametrize("port", [True, False, 80.0, None, b"80", [80]])
def test_validate_port_rejects_other_types(port: object) -> None:
    with pytest.raises(ValidationError):
        validate_port(port)  # type: ignore[arg-type]


@PROPERTY
@given(st.integers(min_value=-(2**70), max_value=2**70))
def test_property_validate_port_accepts_exactly_1_to_65535(port: int) -> None:
    valid = 1 <= port <= 65535
    for value in (port, str(port)):
        try:
            assert validate_port(value) == port
            assert valid
        except ValidationError:
            event("rejected")
            assert not valid


@PROPERTY
@given(st.one_of(st.text(max_size=8), st.from_regex(r"[0-9]{1,6}", fullmatch=True)))
def test_property_validate_port_strings(text: str) -> None:
    expected = text.isascii() and text.isdigit() and len(text) <= 10 and 1 <= int(text) <= 65535
    try:
        result = validate_port(text)
    except ValidationError:
        event("rejected")
        assert not expected
    else:
        assert expected
        assert result == int(text)


def test_validate_gpu_index() -> None:
    assert validate_gpu_index(0) == 0
    assert validate_gpu_index("7") == 7
    assert validate_gpu_index(1, 2) == 1
    assert validate_gpu_index("0", 1) == 0


@pytest.mark.parametrize(
    ("index", "count", "message"),
    [
        (3, 2, "GPU 3 does not exist: this box has 2 GPUs (0-1)"),
        (2, 2, "GPU 2 does not exist: this box has 2 GPUs (0-1)"),
        ("8", 8, "GPU 8 does not exist: this box has 8 GPUs (0-7)"),
        (1, 1, "GPU 1 does not exist: this box has 1 GPU (0)"),
        (0, 0, "GPU 0 does not exist: this box has no GPUs"),
        (-1, None, "invalid GPU index -1: use a whole number, 0 or above"),
        ("-1", None, "invalid GPU index '-1': use a whole number, 0 or above"),
        ("one", None, "invalid GPU index 'one': use a whole number, 0 or above"),
        (True, None, "invalid GPU index True: use a whole number, 0 or above"),
    ],
)
def test_validate_gpu_index_rejects(index: int | str, count: int | None, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_gpu_index(index, count)
    assert str(exc.value) == message


# --------------------------------------------------------------------------- listen


@pytest.mark.parametrize(
    ("addr", "expected"),
    [
        ("0.0.0.0", "0.0.0.0"),
        ("127.0.0.1", "127.0.0.1"),
        ("192.168.1.20", "192.168.1.20"),
        ("::", "::"),
        ("::1", "::1"),
        ("0:0:0:0:0:0:0:1", "::1"),
        ("2001:DB8::1", "2001:db8::1"),
        ("fe80::1%eth0", "fe80::1%eth0"),
        ("localhost", "localhost"),
        ("gpu-box-01", "gpu-box-01"),
        ("GPU01.Lab.Example.com", "gpu01.lab.example.com"),
        ("example.com.", "example.com."),
        ("3com.net", "3com.net"),
    ],
)
def test_validate_listen_accepts(addr: str, expected: str) -> None:
    assert validate_listen(addr) == expected


@pytest.mark.parametrize(
    ("addr", "reason"),
    [
        ("", "empty"),
        ("0.0.0.0,::", "single address"),
        ("a, b", "single address"),
        (" 0.0.0.0", "whitespace"),
        ("local host", "whitespace"),
        ("host\n", "whitespace or control"),
        ("256.1.1.1", "not a valid IP address"),
        ("127.1", "not a valid IP address"),
        ("1.2.3.4.5", "not a valid IP address"),
        ("01.2.3.4", "not a valid IP address"),
        ("::1::2", "not a valid IP address"),
        ("[::1]", "not a valid IP address"),
        ("fe80::1%eth0;id", "IP address or a host name"),
        ("-host", "IP address or a host name"),
        ("host-", "IP address or a host name"),
        ("under_score", "IP address or a host name"),
        ("a..b", "IP address or a host name"),
        ("a" * 64 + ".com", "IP address or a host name"),
        (("a" * 63 + ".") * 4 + "com", "IP address or a host name"),
        ("bücher.de", "IP address or a host name"),
        ("host;id", "IP address or a host name"),
    ],
)
def test_validate_listen_rejects(addr: str, reason: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_listen(addr)
    text = _message(exc)
    assert reason in text
    if addr and len(addr) <= 80:
        assert repr(addr) in text


# --------------------------------------------------------------------------- file names


@pytest.mark.parametrize(
    "name",
    [
        "model.safetensors",
        "flux1-dev.sft",
        "a b (1).ckpt",
        "模型.bin",
        "é" * 127,
        "x" * 255,
        "a..b",
    ],
)
def test_validate_filename_accepts(name: str) -> None:
    assert validate_filename(name) == name


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        (".", "expected a file name"),
        ("..", "expected a file name"),
        (".bashrc", "hidden"),
        ("a/b", "'/'"),
        ("../etc/passwd", "'/'"),
        ("a\\b", "'\\'"),
        ("a\x00b", "control"),
        ("a\nb", "control"),
        ("evil\u202egnp.exe", "format"),
        ("x" * 256, "255 bytes"),
        ("é" * 128, "255 bytes"),
        ("\udcff.bin", "UTF-8"),
    ],
)
def test_validate_filename_rejects(name: str, reason: str) -> None:
    with pytest.raises(ValidationError) as exc:
        validate_filename(name)
    text = _message(exc)
    assert reason in text
    if name and len(name) <= 80:
        assert repr(name) in text


@PROPERTY
@given(st.text())
def test_property_accepted_filenames_are_single_safe_names(name: str) -> None:
    try:
        result = validate_filename(name)
    except ValidationError:
        event("rejected")
        return
    assert result == name
    assert "/" not in result and "\\" not in result and "\x00" not in result
    assert not result.startswith(".")
    assert 1 <= len(result.encode("utf-8")) <= 255
    assert Path(result).name == result


def test_env_assignments_name_a_variable_and_never_echo_the_value() -> None:
    from comfy_tui.validate import validate_env, validate_env_assignment

    assert validate_env_assignment("HF_HOME=/data/hf") == ("HF_HOME", "/data/hf")
    assert validate_env_assignment("_X=a=b") == ("_X", "a=b")
    assert validate_env_assignment("EMPTY=") == ("EMPTY", "")
    for bad in ("1A=x", "A-B=x", "=x", "A B=x", "tok_secret_value", "A\x1b=x"):
        with pytest.raises(ValidationError, match="KEY=VALUE") as caught:
            validate_env_assignment(bad)
        assert "secret_value" not in str(caught.value) and "\x1b" not in str(caught.value)
    with pytest.raises(ValidationError, match="without NUL"):
        validate_env({"A": "x\0y"})

"""Logging goes to the data dir's file only, and never carries a token."""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from comfy_tui.logs import RotatingFile, redact, setup_logging


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "logs" / "comfy-tui.log"
    handler = setup_logging(path, secrets=["hf_MySecretTokenValue", "plainsecret42"])
    yield path
    logging.getLogger().removeHandler(handler)
    handler.close()


def test_tokens_never_reach_the_log(log_file: Path) -> None:
    log = logging.getLogger("comfy_tui.test")
    log.info("token is %s", "plainsecret42")
    log.info("headers {'Authorization': 'Bearer abcdefghijklmnop'}")
    log.warning("GET https://x.example/file?token=zzzsecretzzz&x=1")
    log.info("hf token hf_MySecretTokenValue and another hf_AnotherTokenValue12")
    log.info("github ghp_" + "a" * 36)
    try:
        raise RuntimeError("failed with plainsecret42")
    except RuntimeError:
        log.exception("boom")
    text = log_file.read_text()
    for secret in (
        "plainsecret42",
        "abcdefghijklmnop",
        "zzzsecretzzz",
        "hf_MySecretTokenValue",
        "hf_AnotherTokenValue12",
        "ghp_aaaa",
    ):
        assert secret not in text
    assert text.count("***") >= 6
    assert "boom" in text and "RuntimeError" in text


def test_log_file_is_private_and_library_warnings_land_there(log_file: Path) -> None:
    logging.getLogger("aiohttp.client").warning("a library warning")
    logging.getLogger("comfy_tui").debug("not at info level")
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    text = log_file.read_text()
    assert "a library warning" in text
    assert "not at info level" not in text


def test_setup_twice_keeps_one_handler(tmp_path: Path) -> None:
    first = setup_logging(tmp_path / "a.log")
    second = setup_logging(tmp_path / "b.log")
    ours = [h for h in logging.getLogger().handlers if h.get_name() == "comfy-tui-file"]
    assert ours == [second]
    logging.getLogger().removeHandler(second)
    second.close()
    first.close()


def test_redact_leaves_ordinary_text_alone() -> None:
    assert redact("installing torch 2.5 from https://download.pytorch.org/whl/cu128") == (
        "installing torch 2.5 from https://download.pytorch.org/whl/cu128"
    )


def test_log_file_rotates_and_keeps_its_backups_private(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    handler = RotatingFile(path, max_bytes=200, backups=2)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log = logging.Logger("rotation")
    log.addHandler(handler)
    for n in range(40):
        log.warning("line %02d %s", n, "x" * 30)
    handler.close()
    kept = sorted(p.name for p in tmp_path.iterdir())
    assert kept == ["app.log", "app.log.1", "app.log.2"]
    for name in kept:
        file = tmp_path / name
        assert 0 < file.stat().st_size <= 200
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert path.read_text().splitlines()[-1].startswith("line 39 ")
    older = (tmp_path / "app.log.1").read_text().splitlines()[-1]
    assert int(older.split()[1]) == int(path.read_text().split()[1]) - 1


def test_rotation_counts_what_other_processes_appended(tmp_path: Path) -> None:
    """The TUI and CLI commands append to one log: the size is the file's, not this handle's."""
    path = tmp_path / "app.log"
    first, second = (RotatingFile(path, max_bytes=200, backups=1) for _ in range(2))
    loggers = []
    for n, handler in enumerate((first, second)):
        handler.setFormatter(logging.Formatter("%(message)s"))
        log = logging.Logger(f"process{n}")
        log.addHandler(handler)
        loggers.append(log)
    for _ in range(3):
        loggers[0].warning("x" * 49)  # 150 bytes, written through the first handle only
    loggers[1].warning("y" * 59)  # 60 more would pass 200: the second handle rotates first
    first.close()
    second.close()
    assert (tmp_path / "app.log.1").read_text() == ("x" * 49 + "\n") * 3
    assert path.read_text() == "y" * 59 + "\n"

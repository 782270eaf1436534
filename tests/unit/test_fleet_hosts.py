"""`[[hosts]]` in settings.toml: good tables become HostSpecs, bad values one clear line."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from comfy_tui.core.fleet_hosts import HostSpec, parse_target
from comfy_tui.errors import SettingsError
from comfy_tui.settings import load_settings


def write(data_dir: Path, toml: str) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "settings.toml").write_text(toml, encoding="utf-8")


def test_hosts_are_read(data_dir: Path) -> None:
    write(
        data_dir,
        """
[[hosts]]
name = "gpu1"
ssh = "me@gpu1.lab:2222"
identity_file = "~/.ssh/id_ed25519"
tags = ["gpu=h100", "lab"]
timeout = 5

[[hosts]]
name = "gpu2"
ssh = "gpu2"
command = "/opt/ct/bin/comfy-tui --data-dir '/srv/comfy data'"
""",
    )
    one, two = load_settings(data_dir, {}).hosts
    assert (one.name, one.user, one.host, one.port) == ("gpu1", "me", "gpu1.lab", 2222)
    assert one.identity_file == Path.home() / ".ssh" / "id_ed25519"
    assert one.tags == ("gpu=h100", "lab") and one.timeout == 5.0
    assert one.command == ("comfy-tui",) and one.target == "me@gpu1.lab:2222"
    assert (two.user, two.port, two.target) == (None, None, "gpu2")
    assert two.command == ("/opt/ct/bin/comfy-tui", "--data-dir", "/srv/comfy data")


def test_no_hosts_by_default(data_dir: Path) -> None:
    assert load_settings(data_dir, {}).hosts == ()


def test_ipv6_targets() -> None:
    assert parse_target("root@[::1]:22") == ("root", "::1", 22)
    assert HostSpec("a", "::1", "root", 22).target == "root@[::1]:22"


def test_remote_command_line_quotes_every_word() -> None:
    spec = HostSpec("a", "h", command=("/opt/my tools/comfy-tui",))
    line = spec.command_line(["install", "v1; rm -rf ~", "--json"])
    assert shlex.split(line) == ["/opt/my tools/comfy-tui", "install", "v1; rm -rf ~", "--json"]


@pytest.mark.parametrize(
    ("toml", "needles"),
    [
        ('[[hosts]]\nname = "a"\nssh = "-oProxyCommand=x"', ["hosts[0] 'a'", "'ssh'", "host name"]),
        ('[[hosts]]\nname = "a"\nssh = "h:99999"', ["'ssh'", "'99999' is not a port"]),
        ('[[hosts]]\nname = "a"\nssh = "a b@h"', ["'ssh'", "user name"]),
        ('[[hosts]]\nname = "a"', ["'ssh' is required"]),
        ('[[hosts]]\nname = "bad name"\nssh = "h"', ["hosts[0]", "'name'"]),
        ('[[hosts]]\nname = "a"\nssh = "h"\nport = 22', ["unknown key 'port'"]),
        ('[[hosts]]\nname = "a"\nssh = "h"\ntags = ["gpu = h100"]', ["'tags'", "not a tag"]),
        ('[[hosts]]\nname = "a"\nssh = "h"\ncommand = []', ["'command'"]),
        ('[[hosts]]\nname = "a"\nssh = "h"\ncommand = "x \'y"', ["'command'", "cannot split"]),
        ('[[hosts]]\nname = "a"\nssh = "h"\nidentity_file = "id"', ["identity_file", "absolute"]),
        ('[[hosts]]\nname = "a"\nssh = "h"\ntimeout = 0', ["'timeout'"]),
        ('[[hosts]]\nname = "a"\nssh = "h"\n[[hosts]]\nname = "a"\nssh = "g"', ["two hosts"]),
        ('hosts = "gpu1"', ["key 'hosts'", "[[hosts]] tables"]),
    ],
)
def test_bad_hosts_give_one_clear_line(data_dir: Path, toml: str, needles: list[str]) -> None:
    write(data_dir, toml)
    with pytest.raises(SettingsError) as info:
        load_settings(data_dir, {})
    message = str(info.value)
    assert "\n" not in message and "settings.toml: key 'hosts'" in message
    for needle in needles:
        assert needle in message

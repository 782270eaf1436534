"""Autostart after a reboot: a systemd user unit that runs `comfy-tui up` (and `stop --all
--keep-wanted` at shutdown), or, without systemd, the crontab `@reboot` line to add.

Nothing needs root: the unit lives in the user's own `~/.config/systemd/user/` (from
XDG_CONFIG_HOME or HOME), and `loginctl enable-linger` is the one line that lets it start at
boot without a login.
"""

from __future__ import annotations

import getpass
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from comfy_tui.errors import ProcessError
from comfy_tui.services.childenv import child_environ

UNIT_NAME = "comfy-tui.service"
SYSTEMCTL_TIMEOUT_S = 30.0


def unit_path(env: Mapping[str, str]) -> Path:
    """`$XDG_CONFIG_HOME/systemd/user/comfy-tui.service` (default `~/.config`)."""
    config = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME") or Path.home()) / ".config")
    return Path(config) / "systemd" / "user" / UNIT_NAME


def comfy_tui_command() -> list[str]:
    """The absolute command that runs this comfy-tui: its script next to the interpreter,
    else the one on PATH, else `python -m comfy_tui`."""
    beside = Path(sys.executable).parent / "comfy-tui"
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("comfy-tui")
    if found:
        return [str(Path(found).resolve())]
    return [sys.executable, "-m", "comfy_tui"]


def _line(argv: Sequence[str]) -> str:
    """One ExecStart/ExecStop value: arguments quoted for systemd (and a shell)."""
    return " ".join(shlex.quote(a).replace("%", "%%") for a in argv)


def unit_text(command: Sequence[str], data_dir: Path) -> str:
    base = [*command, "--data-dir", str(data_dir)]
    return "\n".join(
        [
            "[Unit]",
            "Description=comfy-tui: start the ComfyUI instances you want up",
            "",
            "[Service]",
            "Type=oneshot",
            "RemainAfterExit=yes",
            f"ExecStart={_line([*base, 'up'])}",
            f"ExecStop={_line([*base, 'stop', '--all', '--keep-wanted'])}",
            "TimeoutStartSec=900",
            "",
            "[Install]",
            "WantedBy=default.target",
            "",
        ]
    )


def cron_line(command: Sequence[str], data_dir: Path) -> str:
    log = data_dir / "logs" / "autostart.log"
    up = _line([*command, "--data-dir", str(data_dir), "up"])
    return f"@reboot {up} >> {shlex.quote(str(log))} 2>&1"


def linger_line() -> str:
    return f"loginctl enable-linger {shlex.quote(getpass.getuser())}"


def systemctl() -> str | None:
    return shutil.which("systemctl")


def run_systemctl(*args: str) -> subprocess.CompletedProcess[str]:
    """`systemctl --user ARGS` (blocking); raises ProcessError with its message on failure."""
    exe = systemctl()
    if exe is None:
        raise ProcessError("systemctl is not available")
    done = subprocess.run(
        [exe, "--user", *args],
        capture_output=True,
        text=True,
        timeout=SYSTEMCTL_TIMEOUT_S,
        stdin=subprocess.DEVNULL,
        env=child_environ(),
        check=False,
    )
    return done


@dataclass(frozen=True)
class AutostartStatus:
    unit: Path
    installed: bool
    systemd: bool
    enabled: str  # systemctl is-enabled's word, or "" without systemd / unit

    def to_json(self) -> dict[str, object]:
        return {
            "unit": str(self.unit),
            "installed": self.installed,
            "systemd": self.systemd,
            "enabled": self.enabled or None,
        }


def enable(env: Mapping[str, str], data_dir: Path) -> tuple[Path | None, list[str]]:
    """Write the unit and enable it (systemd), or say the crontab line (no systemd).
    Returns (the unit written or None, lines for the user)."""
    command = comfy_tui_command()
    if systemctl() is None:
        return None, [
            "systemd is not available here; add this line with `crontab -e`:",
            cron_line(command, data_dir),
        ]
    path = unit_path(env)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(unit_text(command, data_dir), encoding="utf-8")
    tmp.replace(path)
    lines = [f"wrote {path}"]
    for args in (("daemon-reload",), ("enable", UNIT_NAME)):
        done = run_systemctl(*args)
        if done.returncode != 0:
            why = (done.stderr.strip().splitlines() or ["failed"])[-1]
            raise ProcessError(f"systemctl --user {' '.join(args)}: {why} (the unit is at {path})")
    lines.append(f"enabled {UNIT_NAME}: `comfy-tui up` runs when your user session starts")
    lines.append(f"to start it at boot without logging in, run once: {linger_line()}")
    return path, lines


def disable(env: Mapping[str, str]) -> list[str]:
    path = unit_path(env)
    lines = []
    if systemctl() is not None and path.exists():
        run_systemctl("disable", UNIT_NAME)
    if path.exists():
        path.unlink()
        lines.append(f"removed {path}")
        if systemctl() is not None:
            run_systemctl("daemon-reload")
    else:
        lines.append("autostart was not enabled")
    if systemctl() is None:
        lines.append("without systemd: remove the `@reboot … up` line with `crontab -e`")
    return lines


def status(env: Mapping[str, str]) -> AutostartStatus:
    path = unit_path(env)
    has_systemd = systemctl() is not None
    enabled = ""
    if has_systemd and path.exists():
        done = run_systemctl("is-enabled", UNIT_NAME)
        enabled = done.stdout.strip() or ("enabled" if done.returncode == 0 else "disabled")
    return AutostartStatus(path, path.exists(), has_systemd, enabled)


def status_line(state: AutostartStatus) -> str:
    """`autostart status` in one line (the CLI's text and the TUI's report)."""
    if not state.systemd:
        return (
            "systemd is not available; autostart is the crontab @reboot line "
            "(see: comfy-tui autostart enable)"
        )
    if state.installed:
        return f"{state.unit}: {state.enabled or 'unknown'}"
    return "autostart is off (turn it on: comfy-tui autostart enable)"

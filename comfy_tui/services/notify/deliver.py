"""Where a notice goes besides the TUI: the terminal (bell, OSC 9 and OSC 777 desktop
notifications, which tmux and most terminals pass on over SSH), a webhook (JSON POST,
retried) and a command (an argv list, never a shell). The webhook URL may carry a secret:
only its scheme and host are ever logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from urllib.parse import urlsplit

import aiohttp

from comfy_tui.services.childenv import child_environ
from comfy_tui.services.notify.notice import Notice
from comfy_tui.validate import is_loopback_host

log = logging.getLogger(__name__)

WEBHOOK_ATTEMPTS = 3
WEBHOOK_TIMEOUT_S = 10.0
COMMAND_TIMEOUT_S = 30.0
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _plain(text: str, limit: int = 200) -> str:
    return _CONTROL.sub(" ", text)[:limit]


def terminal_text(notice: Notice, *, bell: bool, desktop: bool) -> str:
    """The bytes that make a terminal ring and show a desktop notification."""
    title, body = _plain(notice.title), _plain(notice.body)
    parts = ["\a"] if bell else []
    if desktop:
        parts.append(f"\x1b]9;{title}: {body}\x07")  # iTerm2, Windows Terminal, kitty...
        t777, b777 = title.replace(";", ","), body.replace(";", ",")
        parts.append(f"\x1b]777;notify;{t777};{b777}\x07")  # rxvt, foot, VTE terminals
    return "".join(parts)


def redacted(url: str) -> str:
    """`https://hooks.example.com/…`: what a log may say about a webhook URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}/…"


async def post_webhook(
    url: str,
    notice: Notice,
    *,
    attempts: int = WEBHOOK_ATTEMPTS,
    backoff: Callable[[int], float] = lambda n: 0.5 * 2**n,
) -> bool:
    """POST the notice as JSON; retried on network errors, 429 and 5xx. True when delivered."""
    timeout = aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT_S)
    proxied = not is_loopback_host(urlsplit(url).hostname or "")  # a proxy only for the world
    async with aiohttp.ClientSession(timeout=timeout, trust_env=proxied) as session:
        for attempt in range(attempts):
            why = ""
            try:
                async with session.post(url, json=notice.to_json(), allow_redirects=False) as r:
                    if 200 <= r.status < 300:
                        return True
                    why = f"HTTP {r.status}"
                    if r.status < 500 and r.status != 429:
                        log.warning("webhook %s refused a notice: %s", redacted(url), why)
                        return False
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                why = type(exc).__name__
            log.info("webhook %s: %s (attempt %d/%d)", redacted(url), why, attempt + 1, attempts)
            if attempt + 1 < attempts:
                await asyncio.sleep(backoff(attempt))
    log.warning("webhook %s: gave up after %d attempts", redacted(url), attempts)
    return False


def command_env(base: Mapping[str, str], notice: Notice) -> dict[str, str]:
    """The environment a notify command gets: ours without secrets (`child_environ`), plus
    the notice."""
    env = child_environ(base)
    env["COMFY_TUI_NOTICE_KIND"] = notice.kind
    env["COMFY_TUI_NOTICE_TITLE"] = _plain(notice.title)
    env["COMFY_TUI_NOTICE_BODY"] = _plain(notice.body, 1000)
    return env


async def run_command(argv: Sequence[str], notice: Notice) -> int | None:
    """Run `argv` (no shell) with the notice as JSON on stdin and in COMFY_TUI_NOTICE_*;
    returns its exit code (None when it could not start or ran too long)."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            env=command_env(os.environ, notice),
            start_new_session=True,
        )
    except OSError as exc:
        log.warning("notify_command %s cannot start: %s", argv[0], exc)
        return None
    try:
        async with asyncio.timeout(COMMAND_TIMEOUT_S):
            await proc.communicate(json.dumps(notice.to_json(), default=str).encode())
    except TimeoutError:
        proc.kill()
        await proc.wait()
        log.warning("notify_command %s ran longer than %g s", argv[0], COMMAND_TIMEOUT_S)
        return None
    if proc.returncode:
        log.warning("notify_command %s exited %s", argv[0], proc.returncode)
    return proc.returncode

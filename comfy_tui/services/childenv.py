"""The environment of every child process: comfy-tui's secrets stay in comfy-tui.

`child_environ(base)` is ``base`` (default: our own environment) without the variables that
carry comfy-tui's tokens: `SECRET_VARS` (``HF_TOKEN``, ``HUGGING_FACE_HUB_TOKEN``,
``GITHUB_TOKEN``, ``COMFY_TUI_GITHUB_TOKEN``, ``CIVITAI_API_TOKEN`` and every variable a secret
setting is read from). uv, pip, git, install scripts, the smoke test and pip-audit get exactly
that (`services.proc` applies it to every child it starts); a launched ComfyUI gets it too,
plus the variables named in the `pass_env` setting and the ones handed to that instance
(``launch --env NAME=VALUE``).

`looks_secret` and `mask_env` hide the values of secret-looking variables wherever an
instance's environment is shown (``ps``, ``--json``, the TUI).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

from comfy_tui.settings import MASK, SECRET_ENV_VARS

__all__ = ["SECRET_VARS", "child_environ", "looks_secret", "mask_env"]

SECRET_VARS: frozenset[str] = frozenset({"HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"}) | SECRET_ENV_VARS
"""Variables never passed on to a child unless the user hands them over explicitly."""

_SECRET_LOOKING = re.compile(
    r"(?i)(token|secret|passw(or)?d|api_?key|access_?key|private_?key|credential|auth)"
)


def child_environ(
    base: Mapping[str, str] | None = None,
    *,
    keep: Iterable[str] = (),
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """`base` (our environment when None) without `SECRET_VARS`, except the names in `keep`,
    then `extra` on top (what the user handed this one child)."""
    source = os.environ if base is None else base
    drop = SECRET_VARS.difference(keep)
    env = {k: v for k, v in source.items() if k not in drop}
    if extra:
        env.update(extra)
    return env


def looks_secret(name: str) -> bool:
    """A variable whose value should not be shown: a known secret or a secret-looking name."""
    return name in SECRET_VARS or bool(_SECRET_LOOKING.search(name))


def mask_env(env: Mapping[str, str]) -> dict[str, str]:
    """`env` for display: secret-looking values replaced by ``***``."""
    return {k: (MASK if looks_secret(k) and v else v) for k, v in env.items()}

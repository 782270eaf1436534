"""Install progress and facts read from a checkout: step weights, git progress, --help flags. Pure.

Step weights come from a real ComfyUI v0.3.77 install measured on a 2-core box: clone of one
tag from the mirror ~0.6 s, venv ~0.1 s with uv (~3 s with pip), torch + requirements ~14 s
with uv plus ~25 s of byte-compiling (torch is about 60 % of both), `--quick-test-for-ci` ~12 s.
A first install also clones the mirror, which `clone` covers with git's own percentages.
"""

from __future__ import annotations

import re

__all__ = [
    "STEPS",
    "STEP_WEIGHTS",
    "git_fraction",
    "overall_fraction",
    "parse_comfyui_version",
    "parse_help_flags",
]

STEPS = ("clone", "venv", "torch", "requirements", "compile", "smoke")
STEP_WEIGHTS: dict[str, float] = {
    "clone": 0.04,
    "venv": 0.02,
    "torch": 0.44,
    "requirements": 0.12,
    "compile": 0.08,
    "smoke": 0.30,
}


def overall_fraction(step: str, within: float) -> float:
    """The whole install's fraction when `step` is `within` (0..1) done."""
    within = min(max(within, 0.0), 1.0)
    done = 0.0
    for name in STEPS:
        if name == step:
            return min(done + STEP_WEIGHTS[name] * within, 1.0)
        done += STEP_WEIGHTS[name]
    raise ValueError(f"unknown install step {step!r}")


# Share of a clone each of git's progress phases stands for, and where the phase starts.
_GIT_PHASES: dict[str, tuple[float, float]] = {
    "counting objects": (0.0, 0.02),
    "compressing objects": (0.02, 0.03),
    "receiving objects": (0.05, 0.75),
    "resolving deltas": (0.80, 0.15),
    "updating files": (0.95, 0.05),
}
_GIT_PROGRESS = re.compile(r"(?:remote:\s*)?([A-Za-z ]+?):\s+(\d{1,3})%")


def git_fraction(line: str) -> float | None:
    """The clone's fraction from one line of `git --progress` output, or None."""
    match = _GIT_PROGRESS.match(line.strip())
    if not match:
        return None
    phase = _GIT_PHASES.get(match.group(1).strip().lower())
    if phase is None:
        return None
    start, share = phase
    return start + share * min(int(match.group(2)), 100) / 100


_OPTION_LINE = re.compile(r"^\s{1,8}(-{1,2}[A-Za-z0-9].*)$")
_LONG_FLAG = re.compile(r"(?<![\w-])(--[A-Za-z0-9][A-Za-z0-9_-]*)")


def parse_help_flags(help_text: str) -> tuple[str, ...]:
    """Every long flag an argparse `--help` lists as an option, sorted.

    Only the invocation part of option lines counts (text before the two-space gap that
    starts the description), so flags named in descriptions are not taken for options.
    """
    flags: set[str] = set()
    for line in help_text.splitlines():
        match = _OPTION_LINE.match(line)
        if not match:
            continue
        invocation = re.split(r"\s{2,}", match.group(1), maxsplit=1)[0]
        flags.update(_LONG_FLAG.findall(invocation))
    return tuple(sorted(flags))


_VERSION = re.compile(r"""^__version__\s*(?::\s*str\s*)?=\s*["']([^"']+)["']""", re.MULTILINE)


def parse_comfyui_version(source: str) -> str:
    """`__version__` from the text of comfyui_version.py (never executed); "" when absent."""
    match = _VERSION.search(source)
    return match.group(1) if match else ""

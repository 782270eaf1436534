"""The post-install smoke test: does the new version's `main.py` start at all?

It first reports the torch build the environment holds (asked of torch itself unless the
torch step already did).

`main.py --help` first (about 0.1 s on real ComfyUI, no torch import): it must exit 0, and its
option list is what the version accepts (recorded, so the launch dialog offers only those).
Then, when the version has it, `main.py --quick-test-for-ci --cpu` runs ComfyUI's whole
start-up (imports, nodes, database) and exits before listening (about 12 s on real ComfyUI),
with byte-code writing on (even under PYTHONDONTWRITEBYTECODE), so it leaves the ``.pyc`` files
of everything a start imports: the first launch is as fast as later ones. When an installed
version with exactly the same packages passed it already (`tested_with`), it is not repeated:
the packages are known good, and ComfyUI's own files were byte-compiled by the install.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing
from pathlib import Path

from comfy_tui.core.install_progress import parse_help_flags
from comfy_tui.core.torch_build import TorchBuild
from comfy_tui.core.units import format_duration
from comfy_tui.errors import InstallError
from comfy_tui.events import Event, LogLine, Progress, Step, forwards
from comfy_tui.services.proc import ChildProcess
from comfy_tui.services.reuse import QUICK_TESTED
from comfy_tui.services.torch_source import probe_torch_build

__all__ = ["QUICK_TEST", "TIMEOUT_S", "SmokeTest"]

QUICK_TEST = "--quick-test-for-ci"
TIMEOUT_S = 600.0


class SmokeTest:
    """Run with `async for event in SmokeTest(...).run()`; `flags` is set once it passed."""

    def __init__(
        self,
        python: Path,
        checkout: Path,
        env: Mapping[str, str],
        *,
        torch_build: TorchBuild | None = None,
        tested_with: str | None = None,
    ) -> None:
        self.python = python
        self.checkout = checkout
        # byte code is written: the quick test compiles exactly what a start imports
        self.env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
        self.flags: tuple[str, ...] = ()
        self.torch_build = torch_build
        """The torch build the environment holds (asked at the start unless given)."""
        self.tested_with = tested_with
        """An installed version with exactly these packages whose quick test passed: the
        quick test is not repeated (the first launch runs the same imports)."""
        self.result = ""
        """What was tested: "quick test passed", "help only (...)", "packages quick-tested ..."."""

    async def _run(self, *args: str) -> AsyncGenerator[Event, None]:
        child = ChildProcess([str(self.python), "main.py", *args], cwd=self.checkout, env=self.env)
        try:
            async with asyncio.timeout(TIMEOUT_S), aclosing(child.lines()) as lines:
                async for line in lines:
                    yield LogLine(line, "smoke")
        except TimeoutError:
            raise InstallError(
                f"smoke test main.py {args[0]} took over {format_duration(TIMEOUT_S, precision=1)}"
            ) from None
        if child.returncode != 0:
            raise InstallError(
                f"smoke test main.py {args[0]} failed (exit {child.returncode}): "
                f"{child.last_line() or 'no output'}"
            )

    @forwards
    async def run(self) -> AsyncGenerator[Step, None]:
        if self.torch_build is None:
            yield Progress("smoke", 0.0, detail="which torch build")
            self.torch_build = await probe_torch_build(self.python, self.env)
        yield LogLine(f"torch build: {self.torch_build.describe()}", "smoke")
        yield Progress("smoke", 0.0, detail="main.py --help")
        help_lines: list[str] = []
        async with aclosing(self._run("--help")) as events:
            async for event in events:
                if isinstance(event, LogLine):
                    help_lines.append(event.text)
        flags = parse_help_flags("\n".join(help_lines))
        yield LogLine(f"main.py accepts {len(flags)} flags", "smoke")
        if QUICK_TEST in flags and self.tested_with:
            self.result = f"packages quick-tested in {self.tested_with}"
            yield LogLine(
                f"the same packages passed {self.tested_with}'s quick test: not repeating it",
                "smoke",
            )
        elif QUICK_TEST in flags:
            yield Progress("smoke", 0.1, detail=f"main.py {QUICK_TEST}")
            yield self._run(QUICK_TEST, "--cpu")
            self.result = QUICK_TESTED
        else:
            self.result = f"help only (no {QUICK_TEST})"
        self.flags = flags
        yield Progress("smoke", 1.0, detail="smoke test passed")

"""A version's virtual environment: created and filled with uv (pip as fallback or by setting).

uv comes from the `uv` package (`uv.find_uv_bin()`); when it cannot be found, pip is used and a
log line says so. Every command gets the configured package sources, the shared cache
(`cache/uv` with hardlinks, or `cache/pip`), and an environment cleaned of the user's own
PIP_*/UV_* configuration so that only comfy-tui's settings decide where packages come from.
uv never downloads a Python (``UV_PYTHON_DOWNLOADS=never`` unless the user set it).

The install steps are async generators of `LogLine` events that raise `InstallError` (or
`NetworkError` when an index cannot be reached) with the tool's own last error line.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import AsyncGenerator, Iterable, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from comfy_tui.core import install_plan as plan
from comfy_tui.core.torch_build import check_plan
from comfy_tui.core.uv_output import dry_run_plan, hint_lines, normalize_name
from comfy_tui.errors import InstallError, NetworkError
from comfy_tui.events import Event, LogLine
from comfy_tui.services.childenv import child_environ
from comfy_tui.services.proc import ChildProcess

log = logging.getLogger(__name__)

__all__ = [
    "EnvBuilder",
    "ToolFailed",
    "child_env",
    "find_uv",
    "run_tool",
    "uv_error",
    "venv_facts",
]

_KEEP = frozenset({"PIP_CERT", "PIP_CLIENT_CERT", "UV_NATIVE_TLS", "UV_PYTHON_DOWNLOADS"})
_DROP = frozenset({"PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "CONDA_PREFIX", "PYTHONSTARTUP"})
_NETWORK = re.compile(
    r"(?i)failed to fetch|could not connect|connection refused|name or service not known|"
    r"temporary failure in name resolution|network is unreachable|dns error|"
    r"failed to establish a new connection|max retries exceeded|timed out"
)


def find_uv() -> str | None:
    """The uv binary of the installed `uv` package, or None."""
    try:
        import uv

        return str(uv.find_uv_bin())
    except (ImportError, FileNotFoundError) as exc:
        log.info("uv not found: %s", exc)
        return None


def child_env(
    base: Mapping[str, str], *, uv_cache: Path | None = None, pip_cache: Path | None = None
) -> dict[str, str]:
    """`base` without comfy-tui's secrets (`child_environ`), the user's PIP_*/UV_* settings
    and Python path hacks, plus ours."""
    env = {
        k: v
        for k, v in child_environ(base).items()
        if k not in _DROP and (k in _KEEP or not k.startswith(("PIP_", "UV_")))
    }
    env["PIP_CONFIG_FILE"] = os.devnull  # ignore pip.conf files: our settings decide
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PYTHONNOUSERSITE"] = "1"
    env.setdefault("UV_PYTHON_DOWNLOADS", "never")
    env["UV_NO_PROGRESS"] = "1"
    if uv_cache is not None:
        env["UV_CACHE_DIR"] = str(uv_cache)
    if pip_cache is not None:
        env["PIP_CACHE_DIR"] = str(pip_cache)
    return env


def uv_error(lines: list[str]) -> str:
    """uv's own error line with its first cause ("No solution found ... (Because ...)"), or ""."""
    for i, line in enumerate(lines):
        if line.startswith("error:"):
            text = line.removeprefix("error:").strip()
            causes = []
            for c in lines[i + 1 :]:
                if not c.strip() or c.lstrip().startswith(("hint:", "help:")):
                    break
                causes.append(c.strip().removeprefix("cause:").strip())
            return f"{text} ({causes[0]})" if causes else text
    return ""


class ToolFailed(InstallError):
    """A uv/pip run failed; `lines` is the end of its output (for a retry decision)."""

    def __init__(self, message: str, lines: list[str]) -> None:
        super().__init__(message)
        self.lines = lines


def _with_hints(message: str, lines: list[str]) -> str:
    hints = hint_lines(lines)
    return "\n".join([message, *(f"  {h}" for h in hints)]) if hints else message


async def run_tool(
    argv: list[str], env: Mapping[str, str], source: str, what: str, *, cwd: Path | None = None
) -> AsyncGenerator[Event, None]:
    """Run uv/pip/python, yielding the command and its output as LogLines.

    Raises NetworkError when the output says an index could not be reached, else ToolFailed
    (an InstallError) with the tool's error line (`what` names the step: "installing
    requirements.txt"); either way followed by uv's own ``hint:``/``help:`` lines in full.
    """
    yield LogLine("$ " + " ".join(argv), source)
    child = ChildProcess(argv, env=env, cwd=cwd, tail_lines=200)
    async with aclosing(child.lines()) as stream:
        async for line in stream:
            yield LogLine(line, source)
    if child.returncode != 0:
        tail = list(child.tail)
        reason = uv_error(tail) or child.last_line(
            r"(?i)error|fatal|no matching|not find|unsatisf|because"
        )
        if _NETWORK.search("\n".join(tail)):
            raise NetworkError(
                _with_hints(
                    f"{what} failed: a package index could not be reached ({reason}); "
                    "check index_url/extra_index_urls/find_links/torch_index_url",
                    tail,
                )
            )
        message = f"{what} failed: {reason or f'{source} exited with {child.returncode}'}"
        raise ToolFailed(_with_hints(message, tail), tail)


@dataclass(frozen=True)
class EnvBuilder:
    """Builds one venv. `installer` is "uv" or "pip"; `uv` is the binary (needed for "uv")."""

    installer: str
    python: str
    sources: plan.Sources
    uv_cache: Path
    pip_cache: Path
    env: Mapping[str, str]
    uv: str | None = None

    @staticmethod
    def venv_python(venv: Path) -> Path:
        return venv / "bin" / "python"

    def _run(self, argv: list[str], source: str, what: str) -> AsyncGenerator[Event, None]:
        return run_tool(argv, self.env, source, what)

    async def create(self, venv: Path) -> AsyncGenerator[Event, None]:
        if self.installer == "uv":
            assert self.uv is not None
            argv = plan.uv_venv_argv(self.uv, self.python, venv)
        else:
            argv = plan.pip_venv_argv(self.python, venv)
        async with aclosing(
            self._run(argv, self.installer, "creating the virtual environment")
        ) as stream:
            async for event in stream:
                yield event

    def _torch_packages(self, backend: str) -> list[str]:
        """torch pinned to the wheelhouse's build for `backend` when it holds one."""
        if self.sources.configured and backend != "none":
            names: list[str] = []
            for folder in self.sources.local_dirs():
                if folder.is_dir():
                    names += [p.name for p in folder.glob("torch-*.whl")]
            version = plan.pick_torch_version(names, backend)
            if version:
                return [f"torch=={version}", "torchvision", "torchaudio"]
        return list(plan.TORCH_FAMILY)

    def _torch_argv(
        self, venv: Path, backend: str, url: str | None, *, dry_run: bool = False
    ) -> list[str]:
        python = self.venv_python(venv)
        packages = self._torch_packages(backend) if url is None else list(plan.TORCH_FAMILY)
        index = plan.torch_index_args(self.sources, url, self.installer) if url else None
        if self.installer == "uv":
            assert self.uv is not None
            return plan.uv_install_argv(
                self.uv,
                python,
                self.uv_cache,
                self.sources,
                packages=packages,
                index_args=index,
                dry_run=dry_run,
                compile_bytecode=False,
            )
        return plan.pip_install_argv(
            python, self.pip_cache, self.sources, packages=packages, index_args=index
        )

    async def resolve_torch(
        self, venv: Path, backend: str, url: str | None, found: dict[str, str]
    ) -> AsyncGenerator[Event, None]:
        """uv only: resolve the family (nothing downloaded) and refuse a mixed or wrong build.

        Fills `found` with the planned ``{name: version}``.
        """
        if self.installer != "uv":
            return
        lines: list[str] = []
        argv = self._torch_argv(venv, backend, url, dry_run=True)
        async with aclosing(
            self._run(argv, self.installer, f"resolving torch ({backend})")
        ) as stream:
            async for event in stream:
                if isinstance(event, LogLine):
                    lines.append(event.text)
                yield event
        found.update(dry_run_plan(lines))
        check_plan(found, backend)

    async def install_torch(
        self, venv: Path, backend: str, url: str | None = None
    ) -> AsyncGenerator[Event, None]:
        """torch, torchvision and torchaudio in one command, from one source (`url`, else
        the configured package sources)."""
        argv = self._torch_argv(venv, backend, url)
        async with aclosing(
            self._run(argv, self.installer, f"installing torch ({backend})")
        ) as stream:
            async for event in stream:
                yield event

    async def install_requirements(
        self,
        venv: Path,
        requirements: Path,
        constraints: Path | None,
        *,
        extra: Iterable[str] = (),
        exclude_newer: datetime | None = None,
        exempt: Iterable[str] = (),
    ) -> AsyncGenerator[Event, None]:
        """requirements.txt (plus `extra` packages) with the torch family held by `constraints`.

        `exempt`: packages the `exclude_newer` cut-off does not apply to.
        """
        python = self.venv_python(venv)
        if self.installer == "uv":
            assert self.uv is not None
            argv = plan.uv_install_argv(
                self.uv,
                python,
                self.uv_cache,
                self.sources,
                packages=extra,
                requirements=requirements,
                constraints=constraints,
                exclude_newer=exclude_newer,
                exempt=exempt,
                compile_bytecode=False,
            )
        else:
            argv = plan.pip_install_argv(
                python,
                self.pip_cache,
                self.sources,
                packages=extra,
                requirements=requirements,
                constraints=constraints,
            )
        async with aclosing(
            self._run(argv, self.installer, "installing requirements.txt")
        ) as stream:
            async for event in stream:
                yield event

    async def describe(self, venv: Path) -> dict[str, str]:
        """The venv's Python version and the installed torch family versions ("" if absent),
        plus the CUDA runtime packages a constraints file pins.

        Read from pyvenv.cfg and the dist-info METADATA files: no interpreter start needed.
        """
        return await asyncio.to_thread(venv_facts, venv)


def _metadata_version(dist_info: Path) -> str:
    try:
        with (dist_info / "METADATA").open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("Version:"):
                    return line.split(":", 1)[1].strip()
                if not line.strip():
                    break
    except OSError:
        pass
    return ""


def venv_facts(venv: Path) -> dict[str, str]:
    """{"python": "3.11.7", "torch": "2.5.1+cpu", "torchvision": ..., "torchaudio": ...,
    "nvidia-cublas-cu12": ... (when installed)}."""
    facts = {"python": ""}
    try:
        for line in (venv / "pyvenv.cfg").read_text(encoding="utf-8").splitlines():
            key, _, value = line.partition("=")
            if key.strip() in ("version_info", "version") and not facts["python"]:
                facts["python"] = value.strip()
    except OSError as exc:
        raise InstallError(f"the new environment at {venv} is broken: {exc}") from exc
    for name in plan.TORCH_FAMILY:
        facts[name] = ""
    for site in sorted(venv.glob("lib/python*/site-packages")):
        for dist_info in site.glob("*.dist-info"):
            name = normalize_name(dist_info.name.split("-", 1)[0])
            if plan.is_pinned_package(name):
                version = _metadata_version(dist_info)
                if version:
                    facts[name] = version
    return facts

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
import sys
from collections.abc import AsyncGenerator, Iterable, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from comfy_tui.core import install_plan as plan
from comfy_tui.errors import InstallError, NetworkError
from comfy_tui.events import Event, LogLine
from comfy_tui.services.childenv import child_environ
from comfy_tui.services.proc import ChildProcess

log = logging.getLogger(__name__)

__all__ = [
    "EnvBuilder",
    "check_torch_build",
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
            causes = [c.strip().removeprefix("cause:").strip() for c in lines[i + 1 :]]
            causes = [c for c in causes if c]
            return f"{text} ({causes[0]})" if causes else text
    return ""


async def run_tool(
    argv: list[str], env: Mapping[str, str], source: str, what: str, *, cwd: Path | None = None
) -> AsyncGenerator[Event, None]:
    """Run uv/pip/python, yielding the command and its output as LogLines.

    Raises NetworkError when the output says an index could not be reached, else InstallError
    with the tool's last error line (`what` names the step: "installing requirements.txt").
    """
    yield LogLine("$ " + " ".join(argv), source)
    child = ChildProcess(argv, env=env, cwd=cwd)
    async with aclosing(child.lines()) as stream:
        async for line in stream:
            yield LogLine(line, source)
    if child.returncode != 0:
        reason = uv_error(list(child.tail)) or child.last_line(
            r"(?i)error|fatal|no matching|not find|unsatisf|because"
        )
        lines = "\n".join(child.tail)
        if _NETWORK.search(lines):
            raise NetworkError(
                f"{what} failed: a package index could not be reached ({reason}); "
                "check index_url/extra_index_urls/find_links"
            )
        raise InstallError(f"{what} failed: {reason or f'{source} exited with {child.returncode}'}")


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

    async def install_torch(self, venv: Path, backend: str) -> AsyncGenerator[Event, None]:
        """torch, torchvision and torchaudio in one command, from one source."""
        python = self.venv_python(venv)
        packages = self._torch_packages(backend)
        if self.installer == "uv":
            assert self.uv is not None
            argv = plan.uv_install_argv(
                self.uv,
                python,
                self.uv_cache,
                self.sources,
                packages=packages,
                torch_backend=backend,
            )
        else:
            index = None if self.sources.configured else backend
            argv = plan.pip_install_argv(
                python, self.pip_cache, self.sources, packages=packages, torch_index=index
            )
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
        backend: str,
        extra: Iterable[str] = (),
        exclude_newer: datetime | None = None,
    ) -> AsyncGenerator[Event, None]:
        """requirements.txt (plus `extra` packages) with the torch family held by `constraints`."""
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
                torch_backend=backend,
                exclude_newer=exclude_newer,
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
        """The venv's Python version and the installed torch family versions ("" if absent).

        Read from pyvenv.cfg and the dist-info METADATA files: no interpreter start needed.
        """
        return await asyncio.to_thread(venv_facts, venv)


def check_torch_build(sources: plan.Sources, backend: str, installed: Mapping[str, str]) -> None:
    """With user-configured sources, make sure they gave the torch build that was asked for.

    (PyTorch's own index, used otherwise, serves exactly the build it was asked for.)
    """
    torch = installed.get("torch", "")
    if not torch:
        raise InstallError("the torch step finished but torch is not installed")
    if not sources.configured or not sys.platform.startswith("linux"):
        return
    label = plan.local_label(torch)
    if label != backend:
        raise InstallError(
            f"the configured package sources gave torch {torch}, not a {backend} build: "
            f"add {backend} wheels, pick another build with --torch, or use --torch none"
        )
    vision = installed.get("torchvision", "")
    if vision and plan.local_label(vision) != label:
        raise InstallError(
            f"torchvision {vision} does not match torch {torch} (ComfyUI would crash "
            "with 'operator torchvision::nms does not exist'): fix the package sources"
        )


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
    """{"python": "3.11.7", "torch": "2.5.1+cpu", "torchvision": ..., "torchaudio": ...}."""
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
            for dist_info in site.glob(f"{name}-*.dist-info"):
                version = _metadata_version(dist_info)
                if version:
                    facts[name] = version
    return facts

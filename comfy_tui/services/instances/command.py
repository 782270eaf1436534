"""ComfyUI's command line and environment for one launch (pure: no I/O, no processes).

Only flags the version accepts are passed: an unknown flag makes ComfyUI exit 2 at once.
What a version accepts comes from its recorded `main.py --help`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from comfy_tui.errors import ValidationError

if TYPE_CHECKING:
    from comfy_tui.store.version_records import VersionRecord

CORE_FLAGS = frozenset({"--listen", "--port"})
"""Flags every ComfyUI has had: assumed when a version's flag list is unknown (empty)."""

OWNED_FLAGS = {
    "--port": "the port option (--port N, or the launch dialog)",
    "--listen": "the listen option (--listen ADDR, or the launch dialog)",
    "--cuda-device": "the GPU option (--gpu N, or the launch dialog)",
    "--disable-auto-launch": "nothing: comfy-tui always passes it",
}
"""Flags comfy-tui sets itself; extra arguments may not repeat them."""

NOT_WITH_CPU = frozenset({"--gpu-only", "--highvram", "--normalvram", "--lowvram", "--novram"})
"""ComfyUI rejects these together with --cpu (one argparse group)."""

SESSION_ENV = "__COMFY_CLI_SESSION__"
"""Set it and ComfyUI-Manager's Restart writes `<value>.reboot` and exits, instead of
re-executing itself behind our back; the supervisor then relaunches."""

REBOOT_SUFFIX = ".reboot"


@dataclass(frozen=True)
class LaunchCommand:
    argv: tuple[str, ...]
    env: dict[str, str]  # what we set on top of the inherited environment
    gpu: int | None  # the GPU it runs on, None for CPU or "ComfyUI decides"
    cpu_only: bool


def accepts(version: VersionRecord, flag: str) -> bool:
    return flag in version.flags or (not version.flags and flag in CORE_FLAGS)


def _suggest(version: VersionRecord, word: str) -> str:
    """`; did you mean `--lowvram`?` for a near miss among the version's flags, else ""."""
    bare = word.lstrip("-").replace("_", "-").lower()
    if f"--{bare}" in version.flags:
        return f"; did you mean `--{bare}`?"
    import difflib  # only to suggest a flag for a typo

    close = difflib.get_close_matches(f"--{bare}", version.flags, n=1, cutoff=0.75)
    return f"; did you mean `{close[0]}`?" if close else ""


def check_extra_args(version: VersionRecord, extra: Sequence[str]) -> tuple[str, ...]:
    """Refuse extra flags the version does not know, and the ones comfy-tui owns.

    Checked against the version's recorded `main.py --help`: `lowvram` (no dashes) or
    `--lowram` reads "v0.3.77 has no flag `lowvram`; did you mean `--lowvram`?". A bare word
    right after a flag is taken as that flag's value (`--preview-method auto`).
    """
    previous_is_flag = False
    for token in extra:
        if "\0" in token:
            raise ValidationError("extra arguments must not contain NUL characters")
        if not token.startswith("-"):
            if not previous_is_flag and version.flags:
                hint = _suggest(version, token) or "; flags start with --"
                raise ValidationError(f"{version.tag} has no flag `{token}`{hint}")
            previous_is_flag = False
            continue
        previous_is_flag = "=" not in token
        name = token.split("=", 1)[0]
        if name in OWNED_FLAGS:
            raise ValidationError(
                f"do not pass {name} as an extra argument; use {OWNED_FLAGS[name]}"
            )
        if version.flags and name not in version.flags:
            raise ValidationError(
                f"{version.tag} has no flag `{name}`{_suggest(version, name)} (ComfyUI would "
                "exit with 'unrecognized arguments'; its flags: python main.py --help)"
            )
    return tuple(extra)


def build_command(
    version: VersionRecord,
    *,
    port: int,
    listen: str,
    gpu: int | None,
    gpu_count: int,
    instance_dir: Path,
    extra_args: Sequence[str] = (),
    user_env: Mapping[str, str] | None = None,
    model_paths_config: Path | None = None,
    separate_outputs: bool = False,
) -> LaunchCommand:
    """The argv and environment that start `version` as one instance. `separate_outputs`:
    its own `output/` in the instance folder (unless the caller's flags name one)."""
    extra = check_extra_args(version, extra_args)
    argv = [version.python, str(Path(version.path) / "main.py"), "--listen", listen]
    argv += ["--port", str(port)]
    if accepts(version, "--disable-auto-launch"):
        argv.append("--disable-auto-launch")
    env = {"PYTHONUNBUFFERED": "1", "PYTHONIOENCODING": "utf-8"}
    env[SESSION_ENV] = str(instance_dir / "session")

    cpu_only = gpu_count <= 0
    if cpu_only:
        gpu = None
        if (
            accepts(version, "--cpu")
            and not NOT_WITH_CPU.intersection(extra)
            and "--cpu" not in extra
        ):
            argv.append("--cpu")
    elif gpu is not None:
        if accepts(version, "--cuda-device"):
            argv += ["--cuda-device", str(gpu)]
        else:
            env["CUDA_VISIBLE_DEVICES"] = str(gpu)

    # Our own database and temp folder: instances of one version never share them (newer
    # ComfyUI refuses a database another instance holds; temp is wiped at every start).
    if accepts(version, "--database-url"):
        argv += ["--database-url", f"sqlite:///{instance_dir / 'comfyui.db'}"]
    elif accepts(version, "--user-directory"):
        argv += ["--user-directory", str(instance_dir / "user")]
    if accepts(version, "--temp-directory"):
        argv += ["--temp-directory", str(instance_dir)]
    if model_paths_config is not None and accepts(version, "--extra-model-paths-config"):
        argv += ["--extra-model-paths-config", str(model_paths_config)]
    own_output = not any(a.startswith("--output-directory") for a in extra)
    if separate_outputs and own_output and accepts(version, "--output-directory"):
        argv += ["--output-directory", str(instance_dir / "output")]
    argv += extra
    env.update(user_env or {})
    return LaunchCommand(tuple(argv), env, gpu, cpu_only)


def port_in_argv(argv: Sequence[str]) -> int | None:
    """The `--port` a ComfyUI command line carries (both `--port N` and `--port=N`)."""
    for i, arg in enumerate(argv):
        value: str | None = None
        if arg == "--port" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--port="):
            value = arg.split("=", 1)[1]
        if value is not None and value.isdigit():
            return int(value)
    return None

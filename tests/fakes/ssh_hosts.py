"""Fleet hosts for tests: in-process asyncssh servers on 127.0.0.1 that run the real `comfy-tui`.

Each `FakeHost` is a real SSH server (its own host key, generated per run) that accepts the
lab's client key and executes the command line it is sent: split with `shlex` (the remote
login shell's job), run with `create_subprocess_exec` (no shell) and an environment the server
sets for the child, in which `COMFY_TUI_HOME` is the host's own data dir and `PATH` finds the
`comfy-tui` of the venv running the tests. GPUs come from the recorded H200 (`gpu_replay`).

Modes: "ok"; "slow" (each command waits until `release` is set); "drop" (every command aborts
the connection); "drop-once" (the first command aborts it, later ones run).
`FakeHost.install_from(upstream, wheelhouse)` points the host's settings at the fake ComfyUI
repo and wheelhouse, so a remote `install` really installs; `SshLab.add(..., version=V)` puts a
`comfy-tui` first on the host's PATH that says it is V (and runs the real one for the rest).
`ssh_agent(key_file)` runs OpenSSH's `ssh-agent` holding that key, for keys from the agent.
`SshLab.known_hosts()` writes `~/.ssh/known_hosts` for the hosts that should be trusted.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from comfy_tui.paths import DataPaths
from comfy_tui.services.fleet.ssh_lib import asyncssh

REPO = Path(__file__).resolve().parents[2]
GPU_FIXTURE = REPO / "tests" / "fixtures" / "nvml_h200.json"


@dataclass
class FakeHost:
    name: str
    data_dir: Path
    mode: str
    host_key: asyncssh.SSHKey
    port: int = 0
    commands: list[str] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)
    server: asyncssh.SSHAcceptor | None = None
    connections: int = 0
    live: list[asyncssh.SSHServerConnection] = field(default_factory=list)
    handlers: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def paths(self) -> DataPaths:
        return DataPaths(self.data_dir)

    def argvs(self) -> list[list[str]]:
        return [shlex.split(c) for c in self.commands]

    @property
    def bin_dir(self) -> Path:
        """First on the host's PATH (empty unless the host says it runs another version)."""
        return self.data_dir.parent / "bin"

    def install_from(self, upstream: Path, wheelhouse: Path) -> None:
        """The host's settings.toml: ComfyUI from `upstream`, packages from `wheelhouse` only."""
        self.paths.settings_file.write_text(
            f"comfyui_repo = {json.dumps(upstream.as_uri())}\n"
            f"find_links = [{json.dumps(wheelhouse.as_uri())}]\n"
            f"python = {json.dumps(sys.executable)}\n"
        )

    def child_env(self) -> dict[str, str]:
        venv_bin = str(Path(sys.executable).parent)
        path = os.pathsep.join((str(self.bin_dir), venv_bin, os.environ.get("PATH", "/bin")))
        return {
            "PATH": path,
            "HOME": str(self.data_dir.parent / "home"),
            "LANG": "C.UTF-8",
            "COMFY_TUI_HOME": str(self.data_dir),
            "COMFY_TUI_GPU_REPLAY": str(GPU_FIXTURE),
            "COMFY_TUI_POLL_INTERVAL": "0.05",
            "COMFY_TUI_READY_TIMEOUT": "60",
            "COMFY_TUI_STOP_GRACE": "5",
            "COMFY_TUI_ALLOW_LOCAL_DOWNLOADS": "1",
        }

    async def handle(self, process: asyncssh.SSHServerProcess[str]) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        try:
            await self._handle(process)
        finally:
            self.handlers.discard(task)

    async def _handle(self, process: asyncssh.SSHServerProcess[str]) -> None:
        command = process.command or ""
        self.commands.append(command)
        if self.mode == "drop" or (self.mode == "drop-once" and len(self.commands) == 1):
            process.channel.get_connection().abort()
            return
        if self.mode == "slow":
            await self.release.wait()
        child = await asyncio.create_subprocess_exec(
            *shlex.split(command),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self.child_env(),
            cwd=self.data_dir,
        )
        try:
            out, err = await child.communicate()
        finally:  # a test that ends first leaves no child behind
            if child.returncode is None:
                child.kill()
                await child.wait()
        process.stdout.write(out.decode("utf-8", "replace"))
        process.stderr.write(err.decode("utf-8", "replace"))
        process.exit(child.returncode if child.returncode is not None else 255)


def _another_version(script: Path, version: str) -> None:
    """A `comfy-tui` that answers `--version` with `version` and runs the real one otherwise."""
    real = Path(sys.executable).parent / "comfy-tui"
    script.write_text(
        f"#!{sys.executable}\n"
        "import os, sys\n"
        "if sys.argv[1:] == ['--version']:\n"
        f"    print({f'comfy-tui {version}'!r})\n"
        "else:\n"
        f"    os.execv({str(real)!r}, [{str(real)!r}, *sys.argv[1:]])\n"
    )
    script.chmod(0o755)


class SshLab:
    """The client key pair, the hosts, and the client's `~/.ssh/known_hosts`."""

    def __init__(self, root: Path, home: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.home = home
        self.client_key = asyncssh.generate_private_key("ssh-ed25519")
        self.identity_file = root / "id_ed25519"
        self.client_key.write_private_key(self.identity_file)
        self.identity_file.chmod(0o600)
        self.hosts: dict[str, FakeHost] = {}

    async def add(self, name: str, mode: str = "ok", *, version: str | None = None) -> FakeHost:
        data_dir = self.root / name / "data"
        data_dir.mkdir(parents=True)
        (data_dir.parent / "home").mkdir()
        host = FakeHost(name, data_dir, mode, asyncssh.generate_private_key("ssh-ed25519"))
        host.bin_dir.mkdir()
        if version is not None:
            _another_version(host.bin_dir / "comfy-tui", version)

        class Server(asyncssh.SSHServer):
            def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
                host.connections += 1
                host.live.append(conn)

            def connection_requested(
                self, dest_host: str, dest_port: int, orig_host: str, orig_port: int
            ) -> bool:
                return dest_host == "127.0.0.1"  # local forwards to the host's loopback

        authorized = asyncssh.import_authorized_keys(self.client_key.export_public_key().decode())
        host.server = await asyncssh.create_server(
            Server,
            "127.0.0.1",
            0,
            server_host_keys=[host.host_key],
            authorized_client_keys=authorized,
            process_factory=host.handle,
        )
        host.port = host.server.sockets[0].getsockname()[1]
        self.hosts[name] = host
        return host

    def known_hosts(
        self, trusted: Iterable[str] | None = None, *, wrong: Iterable[str] = ()
    ) -> None:
        """Trust the named hosts (all by default); `wrong`: list another key for these."""
        names = list(self.hosts) if trusted is None else list(trusted)
        lines = []
        for name in names:
            host = self.hosts[name]
            key = host.host_key.export_public_key().decode().strip()
            lines.append(f"[127.0.0.1]:{host.port} {key}")
        for name in wrong:
            other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
            lines.append(f"[127.0.0.1]:{self.hosts[name].port} {other.strip()}")
        ssh = self.home / ".ssh"
        ssh.mkdir(exist_ok=True)
        (ssh / "known_hosts").write_text("\n".join(lines) + "\n")

    def hosts_toml(
        self, timeouts: dict[str, float] | None = None, *, identity_file: bool = True
    ) -> str:
        """`[[hosts]]` tables for every host (127.0.0.1:port, the lab's identity file unless
        `identity_file` is False: then the keys are the agent's and `~/.ssh/id_*`)."""
        parts = []
        identity = f'identity_file = "{self.identity_file}"\n' if identity_file else ""
        for name, host in self.hosts.items():
            timeout = (timeouts or {}).get(name, 30)
            parts.append(
                f'[[hosts]]\nname = "{name}"\nssh = "tester@127.0.0.1:{host.port}"\n'
                f'{identity}tags = ["lab", "mode={host.mode}"]\n'
                f"timeout = {timeout}\n"
            )
        return "\n".join(parts)

    async def aclose(self) -> None:
        """Stop every server and abort its connections (a slow host's waiting commands end
        with them, unreleased)."""
        for host in self.hosts.values():
            for conn in host.live:
                conn.abort()
            for task in list(host.handlers):
                task.cancel()
            await asyncio.gather(*host.handlers, return_exceptions=True)
            if host.server is not None:
                host.server.close()
                await host.server.wait_closed()


@asynccontextmanager
async def ssh_agent(key_file: Path) -> AsyncIterator[str]:
    """OpenSSH's `ssh-agent` in the foreground holding `key_file`; yields its socket path.
    Skips the test where OpenSSH's agent tools are not installed."""
    agent_bin, add_bin = shutil.which("ssh-agent"), shutil.which("ssh-add")
    if agent_bin is None or add_bin is None:
        pytest.skip("ssh-agent/ssh-add are not installed")
    with tempfile.TemporaryDirectory(prefix="agent-") as folder:  # short: a socket path
        sock = str(Path(folder) / "sock")
        agent = await asyncio.create_subprocess_exec(
            agent_bin, "-D", "-a", sock,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
        )  # fmt: skip
        try:
            assert agent.stdout is not None
            await agent.stdout.readline()  # "SSH_AUTH_SOCK=...": printed once it listens
            add = await asyncio.create_subprocess_exec(
                add_bin, "-q", str(key_file),
                env={**os.environ, "SSH_AUTH_SOCK": sock}, stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            _, err = await add.communicate()
            assert add.returncode == 0, err.decode()
            yield sock
        finally:
            if agent.returncode is None:
                agent.terminate()
            await agent.wait()


@pytest.fixture
async def ssh_lab(tmp_path: Path) -> AsyncIterator[SshLab]:
    """A lab whose client files live in the test's HOME (conftest makes one per test)."""
    lab = SshLab(tmp_path / "lab", Path(os.environ["HOME"]))
    try:
        yield lab
    finally:
        await lab.aclose()

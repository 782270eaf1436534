"""`comfy-tui models download` as a script sees it: a real process, exit codes, kill -9, Ctrl-C."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from comfy_tui.services.downloads import State
from comfy_tui.services.downloads.store import load_items
from tests.cli_run import at_a_terminal
from tests.fakes.download_server import DownloadServer, ThreadedServer
from tests.fakes.fake_hf import FakeHub
from tests.fakes.payloads import safetensors_payload
from tests.waiting import LAST_RESORT_S, wait_until

DATA = safetensors_payload(12 * 1024 * 1024)
TOKEN = "hf_CliSecretToken0123456789abcdef"


def base_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("COMFY_TUI_", "HF_", "CIVITAI_")) and k != "GITHUB_TOKEN"
    }
    env.update(
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_HUB_DISABLE_XET="1",
        HF_HOME=str(data_dir.parent / "hf-home"),
        COMFY_TUI_ALLOW_LOCAL_DOWNLOADS="1",
    )
    env.update(extra)
    return env


def command(data_dir: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "comfy_tui", "--data-dir", str(data_dir), "models", "download",
            *args]  # fmt: skip


def run(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(data_dir, *args),
        capture_output=True,
        text=True,
        env=base_env(data_dir, **env),
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def library_files(data_dir: Path) -> list[str]:
    root = data_dir / "library"
    files = (p for p in root.rglob("*") if p.is_file() and not p.name.startswith("library.db"))
    return sorted(str(p.relative_to(root)) for p in files)  # the index (library.db) aside


@pytest.fixture
def server() -> Iterator[tuple[ThreadedServer, DownloadServer]]:
    threaded = ThreadedServer(DownloadServer())
    with threaded as srv:
        yield threaded, srv


def test_download_prints_the_path_and_progress(
    data_dir: Path, server: tuple[ThreadedServer, DownloadServer]
) -> None:
    _, srv = server
    url = srv.add("/files/model.safetensors", DATA)
    result = run(data_dir, url, "--folder", "checkpoints")
    assert result.returncode == 0, result.stderr
    target = data_dir / "library/models/checkpoints/model.safetensors"
    assert result.stdout.strip() == str(target)
    assert target.read_bytes() == DATA
    assert "download model.safetensors" in result.stderr and "done" in result.stderr
    assert library_files(data_dir) == ["models/checkpoints/model.safetensors"]


def test_json_is_one_document(
    data_dir: Path, server: tuple[ThreadedServer, DownloadServer]
) -> None:
    _, srv = server
    url = srv.add("/loras/style.safetensors", DATA[:1000])
    digest = hashlib.sha256(DATA[:1000]).hexdigest()
    result = run(data_dir, url, "--sha256", digest.upper(), "--json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["folder"] == "loras" and doc["filename"] == "style.safetensors"
    assert doc["sha256"] == digest and doc["size"] == 1000 and doc["kind"] == "url"
    assert doc["path"] == str(data_dir / "library/models/loras/style.safetensors")


def test_sha256_mismatch_exits_1_and_leaves_nothing(
    data_dir: Path, server: tuple[ThreadedServer, DownloadServer]
) -> None:
    _, srv = server
    url = srv.add("/m.bin", DATA[:5000])
    result = run(data_dir, url, "--folder", "vae", "--sha256", "ab" * 32)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("comfy-tui: sha256 mismatch") and "deleted" in last
    assert library_files(data_dir) == []


@pytest.mark.parametrize(
    "args",
    [
        ["http://models.example/x.safetensors", "--folder", "vae"],
        ["javascript:alert(1)", "--folder", "vae"],
        ["https://user:hunter2pw@models.example/x.safetensors", "--folder", "vae"],
        ["file:///etc/passwd", "--folder", "vae"],
        ["https://models.example/x.safetensors"],
        ["https://models.example/x.safetensors", "--folder", "../../etc"],
        ["https://models.example/x.safetensors", "--folder", "vae", "--sha256", "nothex"],
        ["https://models.example/x.safetensors", "extra-file", "--folder", "vae"],
        ["org/repo", "../escape.safetensors", "--folder", "vae"],
        ["not a repo", "x.safetensors", "--folder", "vae"],
    ],
)
def test_bad_input_exits_2_and_creates_nothing(data_dir: Path, args: list[str]) -> None:
    result = run(data_dir, *args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("comfy-tui: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr and "hunter2pw" not in result.stderr
    assert not (data_dir / "library").exists()
    assert not (data_dir / "metadata" / "downloads.json").exists()


def test_loopback_http_needs_the_setting(
    data_dir: Path, server: tuple[ThreadedServer, DownloadServer]
) -> None:
    _, srv = server
    url = srv.add("/m.bin", DATA[:10])
    result = run(data_dir, url, "--folder", "vae", COMFY_TUI_ALLOW_LOCAL_DOWNLOADS="0")
    assert result.returncode == 2
    assert "http://" in result.stderr
    assert srv.requests == []


def _start(data_dir: Path, url: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        at_a_terminal(command(data_dir, url, "--folder", "vae")),  # Ctrl-C works on it
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=base_env(data_dir),
        stdin=subprocess.DEVNULL,
    )


def _wait_for_part(part: Path, size: int, proc: subprocess.Popen[str]) -> None:
    wait_until(
        lambda: proc.poll() is not None or (part.exists() and part.stat().st_size >= size),
        "the download to get going",
    )
    assert proc.poll() is None, proc.communicate()


def test_kill_9_then_the_same_command_continues_from_the_part(
    data_dir: Path, server: tuple[ThreadedServer, DownloadServer]
) -> None:
    threaded, srv = server
    url = srv.add("/big.safetensors", DATA, rate=4 * 1024 * 1024)
    part = data_dir / "library/models/vae/big.safetensors.part"
    proc = _start(data_dir, url)
    _wait_for_part(part, len(DATA) // 3, proc)
    proc.kill()  # SIGKILL: no cleanup at all
    proc.communicate(timeout=LAST_RESORT_S)
    kept = part.stat().st_size
    assert 0 < kept < len(DATA)
    [stale] = load_items(data_dir / "metadata/downloads.json")
    assert stale.state is State.ACTIVE  # it died running

    threaded.call(lambda: setattr(srv.routes["/big.safetensors"], "rate", None))
    result = run(data_dir, url, "--folder", "vae", "--json")
    assert result.returncode == 0, result.stderr
    assert (data_dir / "library/models/vae/big.safetensors").read_bytes() == DATA
    ranges = [r.headers.get("Range") for r in srv.seen("/big.safetensors")]
    assert ranges[0] is None and ranges[-1] == f"bytes={kept}-"
    assert "resuming big.safetensors" in result.stderr
    [item] = load_items(data_dir / "metadata/downloads.json")
    assert item.id == stale.id and item.state is State.DONE
    assert library_files(data_dir) == ["models/vae/big.safetensors"]


def test_ctrl_c_pauses_and_the_next_run_resumes(
    data_dir: Path, server: tuple[ThreadedServer, DownloadServer]
) -> None:
    threaded, srv = server
    url = srv.add("/big.safetensors", DATA, rate=4 * 1024 * 1024)
    part = data_dir / "library/models/vae/big.safetensors.part"
    proc = _start(data_dir, url)
    _wait_for_part(part, 1, proc)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=LAST_RESORT_S)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    kept = part.stat().st_size
    [item] = load_items(data_dir / "metadata/downloads.json")
    assert item.state is State.PAUSED
    threaded.call(lambda: setattr(srv.routes["/big.safetensors"], "rate", None))
    result = run(data_dir, url, "--folder", "vae")
    assert result.returncode == 0, result.stderr
    assert (data_dir / "library/models/vae/big.safetensors").read_bytes() == DATA
    assert srv.seen("/big.safetensors")[-1].headers["Range"] == f"bytes={kept}-"


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    with ThreadedServer(FakeHub()) as fake:
        fake.add_repo(
            "org/flux",
            {"split_files/vae/ae.safetensors": DATA[:300_000], "README.md": b"# hi\n"},
            lfs={"split_files/vae/ae.safetensors"},
        )
        fake.add_repo("org/gated", {"m.safetensors": DATA[:1000]}, gated=True, token=TOKEN)
        yield fake


def test_hf_repo_and_file(data_dir: Path, hub: FakeHub) -> None:
    result = run(
        data_dir, "org/flux", "split_files/vae/ae.safetensors", "--json", HF_ENDPOINT=hub.base
    )
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["kind"] == "hf" and doc["folder"] == "vae"
    assert doc["commit"] == "0123456789abcdef0123456789abcdef01234567"
    assert doc["sha256"] == hashlib.sha256(DATA[:300_000]).hexdigest()


def test_hf_repo_without_file_lists_the_files(data_dir: Path, hub: FakeHub) -> None:
    result = run(data_dir, "org/flux", HF_ENDPOINT=hub.base)
    assert result.returncode == 2
    assert "README.md" in result.stdout and "split_files/vae/ae.safetensors" in result.stdout
    assert "say which file" in result.stderr
    as_json = run(data_dir, "org/flux", "--json", HF_ENDPOINT=hub.base)
    files = json.loads(as_json.stdout)["files"]
    assert [f["path"] for f in files] == ["README.md", "split_files/vae/ae.safetensors"]


def test_gated_repo_message_and_the_token_never_logged(data_dir: Path, hub: FakeHub) -> None:
    refused = run(data_dir, "org/gated", "m.safetensors", "--folder", "vae", HF_ENDPOINT=hub.base)
    assert refused.returncode == 1
    assert "org/gated is gated: accept the licence at" in refused.stderr
    assert "then set a token" in refused.stderr
    assert library_files(data_dir) == []

    ok = run(
        data_dir, "org/gated", "m.safetensors", "--folder", "vae",
        HF_ENDPOINT=hub.base, HF_TOKEN=TOKEN, CIVITAI_API_TOKEN="civitai-secret-xyz",
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert hub.requests[-1].headers["Authorization"] == f"Bearer {TOKEN}"
    log = (data_dir / "logs" / "comfy-tui.log").read_text()
    assert "downloaded" in log
    everything = ok.stdout + ok.stderr + log + (data_dir / "metadata/downloads.json").read_text()
    assert TOKEN not in everything and "civitai-secret-xyz" not in everything

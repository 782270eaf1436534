"""Downloads, the pure pieces: names, folders, URLs, retry timing, speed, Hub headers, ranges."""

from __future__ import annotations

import email.utils
import hashlib
from pathlib import Path

import pytest

from comfy_tui.errors import ValidationError
from comfy_tui.services.downloads.civitai import CivitaiRef, is_civitai_url, parse_civitai_url
from comfy_tui.services.downloads.data import DownloadRequest, Kind, State, normalize_sha256
from comfy_tui.services.downloads.hf import (
    HubFile,
    hub_headers,
    parse_hf_url,
    resolve_url,
    validate_repo_path,
    validate_revision,
)
from comfy_tui.services.downloads.meter import SpeedMeter
from comfy_tui.services.downloads.names import (
    filename_from_disposition,
    filename_from_url,
    sanitize_filename,
)
from comfy_tui.services.downloads.partfile import PartFile
from comfy_tui.services.downloads.protocol import Validator, parse_content_range
from comfy_tui.services.downloads.retry import RetryPolicy, parse_retry_after
from comfy_tui.services.downloads.store import DownloadItem, delete_item, load_items, save_item
from comfy_tui.services.downloads.target_folder import canonical_folder, guess_folder
from comfy_tui.services.downloads.urls import check_download_url, check_hop, same_origin

HF = "https://huggingface.co"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("model.safetensors", "model.safetensors"),
        ("../../evil", "evil"),
        ("../../etc/x", "x"),
        (".hidden", "hidden"),
        ("...", None),
        ("..", None),
        ("a\\b\\c.bin", "c.bin"),
        ("/abs/path/m.ckpt", "m.ckpt"),
        ("bad\x00name\x1b.pt", "badname.pt"),
        ("  spaced.pt  ", "spaced.pt"),
        ("", None),
        ("dir/", None),
        ("x" * 300 + ".safetensors", "x" * 188 + ".safetensors"),
    ],
)
def test_sanitize_filename(raw: str, expected: str | None) -> None:
    assert sanitize_filename(raw) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ('attachment; filename="model.safetensors"', "model.safetensors"),
        ('attachment; filename="../../evil"', "evil"),
        ("attachment; filename=.hidden", "hidden"),
        ("attachment; filename*=UTF-8''caf%C3%A9.pt", "café.pt"),
        ("attachment; filename=\"a.pt\"; filename*=UTF-8''b.pt", "b.pt"),
        ("inline", None),
        (None, None),
    ],
)
def test_filename_from_disposition(header: str | None, expected: str | None) -> None:
    assert filename_from_disposition(header) == expected


def test_filename_from_url() -> None:
    assert filename_from_url("https://x.example/a/b/my%20model.pt?x=1") == "my model.pt"
    assert filename_from_url("https://x.example/") is None
    assert filename_from_url("https://x.example/a/.env") == "env"


def test_folders() -> None:
    assert canonical_folder("loras") == "loras"
    assert canonical_folder("LoRA") == "loras"
    assert canonical_folder("unet/flux") == "diffusion_models/flux"
    assert canonical_folder("clip") == "text_encoders"
    for bad in ("", "nope", "loras/../x", "loras/.hidden", "../checkpoints"):
        with pytest.raises(ValidationError):
            canonical_folder(bad)
    assert guess_folder(["split_files", "vae"]) == "vae"
    assert guess_folder(["split_files", "text_encoders"]) == "text_encoders"
    assert guess_folder(["models", "unet"]) == "diffusion_models"
    assert guess_folder(["files"]) is None


def test_sha256_normalised() -> None:
    h = "AB" * 32
    assert normalize_sha256(h) == "ab" * 32
    assert normalize_sha256("sha256:" + h) == "ab" * 32
    for bad in ("abc", "g" * 64, "ab" * 33):
        with pytest.raises(ValidationError):
            normalize_sha256(bad)


@pytest.mark.parametrize(
    "url",
    [
        "http://models.example/x.safetensors",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "https://user:pw@models.example/x",
        "ftp://models.example/x",
        "https://models.example/a b",
        "http://127.0.0.1:8000/x",
    ],
)
def test_download_urls_refused(url: str) -> None:
    with pytest.raises(ValidationError):
        check_download_url(url, allow_local=False)


def test_loopback_http_only_when_allowed() -> None:
    assert check_download_url("http://127.0.0.1:8000/x", allow_local=True)
    with pytest.raises(ValidationError):
        check_download_url("http://models.example/x", allow_local=True)
    with pytest.raises(ValidationError):
        check_download_url("file:///tmp/x", allow_local=True)


def test_redirects_never_go_from_public_to_loopback() -> None:
    assert check_hop("https://a.example/x", "https://cdn.example/y", allow_local=False)
    with pytest.raises(ValidationError, match="loopback"):
        check_hop("https://a.example/x", "http://127.0.0.1/y", allow_local=True)
    with pytest.raises(ValidationError):
        check_hop("https://a.example/x", "http://cdn.example/y", allow_local=True)
    assert check_hop("http://127.0.0.1:1/x", "http://127.0.0.1:2/y", allow_local=True)


def test_same_origin() -> None:
    assert same_origin("https://a.example/x", "https://a.example:443/y")
    assert not same_origin("https://a.example/x", "https://b.example/x")
    assert not same_origin("http://127.0.0.1:1/x", "http://127.0.0.1:2/x")


def test_retry_after_and_backoff() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    date = email.utils.formatdate(1000.0 + 30, usegmt=True)
    assert parse_retry_after(date, now=1000.0) == pytest.approx(30.0)
    assert parse_retry_after(email.utils.formatdate(10.0, usegmt=True), now=1000.0) == 0.0
    policy = RetryPolicy(base=1.0, cap=5.0)
    assert [policy.delay(n) for n in (1, 2, 3, 4, 5)] == [1.0, 2.0, 4.0, 5.0, 5.0]


def test_speed_meter_and_eta() -> None:
    now = [0.0]
    meter = SpeedMeter(lambda: now[0], window=0.5, alpha=0.5)
    meter.update(0)
    assert meter.speed is None and meter.eta(0, 100) is None
    now[0] = 1.0
    meter.update(1000)
    assert meter.speed == 1000.0
    assert meter.eta(1000, 3000) == 2.0
    now[0] = 1.2
    meter.update(5000)  # inside the window: ignored
    assert meter.speed == 1000.0
    now[0] = 2.0
    meter.update(4000)
    assert meter.speed == 0.5 * 3000 + 0.5 * 1000


def test_hf_urls() -> None:
    file = parse_hf_url(f"{HF}/org/repo/blob/main/split_files/vae/ae.safetensors", HF)
    assert file == HubFile("org/repo", "main", "split_files/vae/ae.safetensors")
    assert parse_hf_url("https://hf.co/org/repo/resolve/v1.0/a.pt?download=true", HF) == HubFile(
        "org/repo", "v1.0", "a.pt"
    )
    pr = parse_hf_url(f"{HF}/org/repo/resolve/refs%2Fpr%2F1/a.pt", HF)
    assert pr is not None and pr.revision == "refs/pr/1"
    assert parse_hf_url(f"{HF}/gpt2/resolve/main/config.json", HF) == HubFile(
        "gpt2", "main", "config.json"
    )
    assert parse_hf_url("https://example.com/org/repo/resolve/main/a", HF) is None
    mirror = "http://127.0.0.1:9000/hf"
    assert parse_hf_url(f"{mirror}/org/repo/resolve/main/a.pt", mirror) == HubFile(
        "org/repo", "main", "a.pt"
    )
    for bad in (
        f"{HF}/org/repo",
        f"{HF}/org/repo/resolve/main",
        f"{HF}/datasets/org/repo/resolve/main/a",
        f"{HF}/org/repo/resolve/main/../../x",
        f"{HF}/org--x/repo/resolve/main/a",
    ):
        with pytest.raises(ValidationError):
            parse_hf_url(bad, HF)
    url = resolve_url("http://h:1/", HubFile("o/r", "refs/pr/1", "a b/c.pt"))
    assert url == "http://h:1/o/r/resolve/refs%2Fpr%2F1/a%20b/c.pt"


def test_hf_input_validation() -> None:
    assert validate_revision("main") == "main"
    assert validate_repo_path("a/b.pt") == "a/b.pt"
    for bad in ("", "a b", "x..y", "x\n"):
        with pytest.raises(ValidationError):
            validate_revision(bad)
    for bad in ("", "/abs", "a/../b", "a//b", "a\\b", "./a"):
        with pytest.raises(ValidationError):
            validate_repo_path(bad)


def test_hub_headers() -> None:
    commit = "a" * 40
    sha = "b" * 64
    assert hub_headers({"X-Repo-Commit": commit, "X-Linked-Etag": f'"{sha}"'}) == (commit, sha)
    assert hub_headers({"X-Repo-Commit": commit, "ETag": f'W/"{sha}"'}) == (commit, sha)
    assert hub_headers({"X-Repo-Commit": commit, "ETag": '"' + "c" * 40 + '"'}) == (commit, None)
    assert hub_headers({"ETag": f'"{sha}"'}) == (None, None)  # not the Hub: ignore


def test_civitai_urls() -> None:
    api = "https://civitai.com"
    assert is_civitai_url("https://civitai.com/models/1", api)
    assert is_civitai_url("https://www.civitai.red/models/1", api)
    assert not is_civitai_url("https://evilcivitai.com/models/1", api)
    assert is_civitai_url("http://127.0.0.1:5/models/1", "http://127.0.0.1:5")
    assert parse_civitai_url("https://civitai.com/models/12/some-slug?modelVersionId=34") == (
        CivitaiRef(12, 34)
    )
    assert parse_civitai_url("https://civitai.com/models/12") == CivitaiRef(12, None)
    assert parse_civitai_url("https://civitai.com/api/download/models/99") == CivitaiRef(None, 99)
    assert parse_civitai_url("https://civitai.com/api/v1/model-versions/7") == CivitaiRef(None, 7)
    with pytest.raises(ValidationError):
        parse_civitai_url("https://civitai.com/images/5")


def test_content_range_and_validator() -> None:
    assert parse_content_range("bytes 10-99/100") == (10, 99, 100)
    assert parse_content_range("bytes 10-99/*") == (10, 99, None)
    assert parse_content_range("junk") is None
    strong = Validator.from_headers({"ETag": '"x"', "Last-Modified": "Mon"})
    assert strong.if_range() == '"x"'
    weak = Validator.from_headers({"ETag": 'W/"x"', "Last-Modified": "Mon"})
    assert weak.if_range() == "Mon"
    assert Validator.from_headers({}).if_range() is None
    assert strong.same(Validator('"x"', None))
    assert not strong.same(Validator('"y"', "Mon"))
    assert weak.same(Validator(None, "Mon"))


def test_queue_items_round_trip(tmp_path: Path) -> None:
    queue_file = tmp_path / "downloads.json"
    item = DownloadItem(
        id="a1",
        request=DownloadRequest("org/repo", "x/y.pt", "vae", "ab" * 32, "main"),
        state=State.PAUSED,
        kind=Kind.HF,
        key="hf:org/repo@main:x/y.pt",
        folder="vae",
        filename="y.pt",
        bytes_done=10,
        bytes_total=20,
        speed=5.0,
        eta=2.0,
        error="network",
        added_at=3.0,
    )
    save_item(queue_file, item)
    save_item(queue_file, item.with_(bytes_done=15))
    [back] = load_items(queue_file)
    assert back == item.with_(bytes_done=15)
    assert back.speed is None and back.eta is None  # live values are not stored
    assert back.fraction == 0.75 and back.label == "y.pt"
    delete_item(queue_file, "a1")
    assert load_items(queue_file) == []
    assert DownloadItem.from_dict({"id": "x", "state": "weird", "request": {}}) is None


def test_downloads_use_the_library_folder_list() -> None:
    from comfy_tui.services.downloads.target_folder import KNOWN_FOLDERS
    from comfy_tui.services.library import folder_types as library

    assert KNOWN_FOLDERS is library.FOLDERS
    for alias, folder in library.ALIASES.items():
        assert canonical_folder(alias) == folder
    assert all(canonical_folder(f) == f for f in library.FOLDERS)


def test_part_writes_batches_in_few_calls_and_never_leaves_a_hole(tmp_path: Path) -> None:
    part = PartFile(tmp_path / "m.bin")
    part.open()
    chunks = [bytes([n % 251]) * (1000 + n) for n in range(1500)]  # more than one pwritev's worth
    part.write(chunks, 0)
    data = b"".join(chunks)
    assert part.size == len(data) and part.path.read_bytes() == data
    with pytest.raises(OSError, match="earlier write"):  # queued behind a failed batch
        part.write([b"x"], 1)
    part.write_at(2, [b"ab", b"cd"])
    assert part.size == len(data) and part.path.read_bytes()[:6] == data[:2] + b"abcd"
    part.digest(chunks)
    assert part.hexdigest() == hashlib.sha256(data).hexdigest()
    part.close()

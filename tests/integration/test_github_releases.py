"""The release list against a fake GitHub on loopback: pages, ETags, limits, failures, fallbacks."""

from __future__ import annotations

import json
import logging
import shutil
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from comfy_tui.core.timefmt import format_clock
from comfy_tui.logs import setup_logging
from comfy_tui.paths import DataPaths
from comfy_tui.services.github import GitHubReleases, github_repo
from comfy_tui.settings import Settings
from tests.fakes.fake_github import RESET_AT, FakeGitHub, release
from tests.fakes.tagged_repo import make_tagged_repo

T0 = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


RELEASES = [
    release("v0.3.75", "2025-11-01T10:00:00Z"),
    release("v0.45.2", "2026-11-12T10:00:00Z"),
    release("v0.4.0-rc1", "2025-12-01T10:00:00Z"),  # GitHub forgot the flag; the tag says it
    release("v0.4.0", "2025-12-05T10:00:00Z"),
    release("v0.5.0-beta", "2026-01-01T10:00:00Z", prerelease=True),
]
NEWEST_FIRST = ["v0.45.2", "v0.5.0-beta", "v0.4.0", "v0.4.0-rc1", "v0.3.75"]


@pytest.fixture
async def github() -> AsyncIterator[FakeGitHub]:
    async with FakeGitHub(releases=list(RELEASES)) as fake:
        yield fake


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def service(
    data_dir: Path, api: str, clock: Clock, sleeps: Sleeps, **settings: object
) -> GitHubReleases:
    s = Settings(data_dir=data_dir, github_api=api)._replace(**settings)  # type: ignore[arg-type]
    return GitHubReleases(s, DataPaths(data_dir), clock=clock, sleep=sleeps, jitter=lambda: 0.0)


@pytest.fixture
def closed_port() -> Iterator[str]:
    """A loopback port where nothing listens (bound, never listening: connections are refused)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def cache_doc(data_dir: Path) -> dict[str, object]:
    doc: dict[str, object] = json.loads((data_dir / "metadata" / "github_cache.json").read_text())
    return doc


# --- the happy paths ----------------------------------------------------------------------


async def test_pages_are_followed_and_ordered_by_version(
    data_dir: Path, github: FakeGitHub, clock: Clock, sleeps: Sleeps
) -> None:
    github.per_page_cap = 2
    listed = await service(data_dir, github.url, clock, sleeps).list()
    assert listed.source == "github" and listed.warning == "" and listed.age_s == 0.0
    assert [r.tag for r in listed.releases] == NEWEST_FIRST
    assert [s.query.get("page", "1") for s in github.requests] == ["1", "2", "3"]
    assert github.requests[0].path == "/repos/comfyanonymous/ComfyUI/releases"
    assert github.requests[0].query["per_page"] == "100"
    assert github.requests[0].headers["Accept"] == "application/vnd.github+json"
    flagged = {r.tag for r in listed.releases if r.prerelease}
    assert flagged == {"v0.4.0-rc1", "v0.5.0-beta"}
    assert [r.tag for r in listed.visible()] == ["v0.45.2", "v0.4.0", "v0.3.75"]
    top = listed.releases[0]
    assert top.published_at == "2026-11-12T10:00:00Z"
    assert top.html_url.startswith("https://github.com/")
    doc = cache_doc(data_dir)
    assert doc["fetched_at"] == T0 and str(doc["etag"]).startswith('W/"')
    assert doc["repo"] == "comfyanonymous/ComfyUI" and len(doc["releases"]) == 5  # type: ignore[arg-type]


async def test_a_fresh_cache_is_served_without_a_request(
    data_dir: Path, github: FakeGitHub, clock: Clock, sleeps: Sleeps
) -> None:
    svc = service(data_dir, github.url, clock, sleeps)
    await svc.list()
    clock.now += 1800
    listed = await svc.list()
    assert len(github.requests) == 1
    assert listed.source == "cache" and listed.age_s == 1800 and listed.warning == ""
    assert [r.tag for r in listed.releases] == NEWEST_FIRST
    cached = await svc.cached()
    assert cached is not None and cached.source == "cache"


async def test_etag_304_keeps_the_cache_and_renews_fetched_at(
    data_dir: Path, github: FakeGitHub, clock: Clock, sleeps: Sleeps
) -> None:
    svc = service(data_dir, github.url, clock, sleeps)
    first = await svc.list()
    etag = cache_doc(data_dir)["etag"]
    clock.now += 7200  # older than the 1 h TTL
    listed = await svc.list()
    assert github.requests[-1].headers["If-None-Match"] == etag
    assert listed.source == "github" and listed.releases == first.releases
    assert cache_doc(data_dir)["fetched_at"] == T0 + 7200
    assert cache_doc(data_dir)["etag"] == etag


async def test_refresh_asks_even_when_the_cache_is_fresh(
    data_dir: Path, github: FakeGitHub, clock: Clock, sleeps: Sleeps
) -> None:
    svc = service(data_dir, github.url, clock, sleeps)
    await svc.list()
    github.releases.insert(0, release("v0.46.0", "2026-11-19T10:00:00Z"))
    listed = await svc.list(refresh=True)
    assert len(github.requests) == 2
    assert listed.releases[0].tag == "v0.46.0"
    assert cache_doc(data_dir)["etag"] != github.requests[1].headers.get("If-None-Match")


async def test_a_renamed_repository_redirect_is_followed(
    data_dir: Path, github: FakeGitHub, clock: Clock, sleeps: Sleeps
) -> None:
    github.redirect["comfyanonymous/ComfyUI"] = "Comfy-Org/ComfyUI"
    listed = await service(data_dir, github.url, clock, sleeps).list()
    assert listed.source == "github" and len(listed.releases) == 5
    assert [s.path for s in github.requests] == [
        "/repos/comfyanonymous/ComfyUI/releases",
        "/repos/Comfy-Org/ComfyUI/releases",
    ]


# --- rate limits ----------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["primary", "primary429"])
async def test_rate_limit_serves_the_cache_and_says_when_it_resets(
    data_dir: Path, github: FakeGitHub, clock: Clock, sleeps: Sleeps, fault: str
) -> None:
    svc = service(data_dir, github.url, clock, sleeps)
    await svc.list()
    clock.now += 3 * 3600
    github.script = [fault]
    listed = await svc.list()
    assert len(github.requests) == 2 and sleeps.waits == []  # no retry against a spent limit
    assert listed.source == "cache" and len(listed.releases) == 5
    resets = format_clock(RESET_AT)
    assert (
        listed.warning == f"GitHub rate limit, resets at {resets} — showing releases cached 3 h ago"
    )


async def test_rate_limit_without_a_cache_says_so(
    data_dir: Path, github: FakeGitHub, clock: Clock, sleeps: Sleeps
) -> None:
    github.script = ["primary"]
    listed = await service(data_dir, github.url, clock, sleeps).list()
    assert listed.source == "none" and listed.releases == ()
    assert listed.warning.startswith(f"GitHub rate limit, resets at {format_clock(RESET_AT)}")
    assert listed.warning.endswith("and no releases are cached")


@pytest.mark.parametrize(("fault", "wait"), [("retry_after", 30.0), ("secondary403", 7.0)])
async def test_retry_after_is_honoured(
    data_dir: Path, github: FakeGitHub, clock: Clock, sleeps: Sleeps, fault: str, wait: float
) -> None:
    github.script = [fault]
    listed = await service(data_dir, github.url, clock, sleeps).list()
    assert sleeps.waits == [wait]
    assert listed.source == "github" and len(listed.releases) == 5


async def test_a_long_retry_after_is_reported_not_slept(
    data_dir: Path, github: FakeGitHub, clock: Clock, sleeps: Sleeps
) -> None:
    github.script = ["long_retry_after"]
    listed = await service(data_dir, github.url, clock, sleeps).list()
    assert sleeps.waits == []
    assert listed.warning.startswith(f"GitHub rate limit, resets at {format_clock(T0 + 3600)}")


# --- failures and retries ---------------------------------------------------------------


async def test_5xx_and_dropped_connections_are_retried_with_backoff(
    data_dir: Path, github: FakeGitHub, clock: Clock, sleeps: Sleeps
) -> None:
    github.script = ["500", "drop", "500"]
    listed = await service(data_dir, github.url, clock, sleeps).list()
    assert sleeps.waits == [2.0, 4.0, 8.0]
    assert listed.source == "github" and len(listed.releases) == 5


async def test_jitter_stretches_the_waits(
    data_dir: Path, github: FakeGitHub, clock: Clock, sleeps: Sleeps
) -> None:
    github.script = ["500", "500"]
    svc = service(data_dir, github.url, clock, sleeps)
    svc.client.jitter = lambda: 1.0
    await svc.list()
    assert sleeps.waits == [2.5, 5.0]


async def test_github_down_with_a_cache_shows_it_with_its_age(
    data_dir: Path, github: FakeGitHub, clock: Clock, sleeps: Sleeps
) -> None:
    svc = service(data_dir, github.url, clock, sleeps)
    await svc.list()
    clock.now += 3 * 3600 + 60
    github.script = ["500"] * 4
    listed = await svc.list()
    assert len(github.requests) == 5 and sleeps.waits == [2.0, 4.0, 8.0]
    assert listed.source == "cache" and listed.age_s == 3 * 3600 + 60
    assert listed.warning == "GitHub unreachable — showing releases cached 3 h ago"
    assert "HTTP 500" in listed.error and "after 4 tries" in listed.error


async def test_github_down_without_a_cache_or_mirror(
    data_dir: Path, closed_port: str, clock: Clock, sleeps: Sleeps
) -> None:
    listed = await service(data_dir, closed_port, clock, sleeps).list()
    assert listed.source == "none" and listed.releases == ()
    assert listed.warning == "GitHub unreachable and no releases are cached"
    assert "cannot connect" in listed.error
    assert await service(data_dir, closed_port, clock, sleeps).cached() is None


async def test_github_down_without_a_cache_uses_the_mirror_tags(
    data_dir: Path, closed_port: str, clock: Clock, sleeps: Sleeps, tmp_path: Path
) -> None:
    bare = make_tagged_repo(
        tmp_path / "src",
        [
            ("v0.3.9", "2025-01-01T00:00:00+00:00"),
            ("v0.3.10", "2025-02-01T00:00:00+00:00"),
            ("v0.4.0-rc1", "2025-03-01T00:00:00+00:00"),
        ],
    )
    mirror = data_dir / "mirrors" / "ComfyUI.git"
    mirror.parent.mkdir(parents=True)
    shutil.copytree(bare, mirror)
    listed = await service(data_dir, closed_port, clock, sleeps).list()
    assert listed.source == "mirror"
    assert listed.warning == "GitHub unreachable — showing the tags of the local mirror"
    assert [r.tag for r in listed.releases] == ["v0.4.0-rc1", "v0.3.10", "v0.3.9"]
    assert listed.releases[1].published_at == "2025-02-01T00:00:00Z"
    assert listed.releases[0].prerelease


async def test_a_repository_off_github_lists_its_own_tags(
    data_dir: Path, clock: Clock, sleeps: Sleeps, tmp_path: Path
) -> None:
    bare = make_tagged_repo(
        tmp_path / "src",
        [("v1.0.0", "2025-01-01T00:00:00+00:00"), ("v1.2.0", "2025-02-01T00:00:00+00:00")],
        annotated=False,
    )
    svc = service(data_dir, "http://127.0.0.1:1", clock, sleeps, comfyui_repo=bare.as_uri())
    listed = await svc.list(refresh=True)
    assert listed.source == "mirror" and listed.warning == ""
    assert [r.tag for r in listed.releases] == ["v1.2.0", "v1.0.0"]
    empty = service(
        data_dir, "http://127.0.0.1:1", clock, sleeps, comfyui_repo="file:///nonexistent/x.git"
    )
    nothing = await empty.list()
    assert nothing.source == "none" and "not on GitHub" in nothing.warning


async def test_odd_answers_fall_back_to_the_cache(
    data_dir: Path, github: FakeGitHub, clock: Clock, sleeps: Sleeps
) -> None:
    svc = service(data_dir, github.url, clock, sleeps)
    await svc.list()
    for fault, needle in [("not_json", "not JSON"), ("forbidden", "HTTP 403")]:
        github.script = [fault]
        listed = await svc.list(refresh=True)
        assert listed.source == "cache", fault
        assert needle in listed.error and "showing releases cached" in listed.warning
    assert sleeps.waits == []


async def test_a_missing_repository_is_named(data_dir: Path, clock: Clock, sleeps: Sleeps) -> None:
    async with FakeGitHub() as fake:
        svc = service(data_dir, fake.url + "/nope", clock, sleeps)
        listed = await svc.list()
    assert listed.source == "none" and "HTTP 404" in listed.error


# --- remote data is validated, the token stays secret -----------------------------------


async def test_invalid_tags_and_drafts_are_skipped_with_a_log_line(
    data_dir: Path,
    github: FakeGitHub,
    clock: Clock,
    sleeps: Sleeps,
    caplog: pytest.LogCaptureFixture,
) -> None:
    github.releases = [
        release("v0.3.77"),
        release("../x"),
        release("v1;rm -rf ~"),
        release(""),
        release("v0.9.0", draft=True),
        {**release("v0.3.76"), "html_url": "http://evil.example/x", "name": "a\x1b[31mb\nc"},
        "not an object",  # type: ignore[list-item]
    ]
    with caplog.at_level(logging.WARNING, logger="comfy_tui"):
        listed = await service(data_dir, github.url, clock, sleeps).list()
    assert [r.tag for r in listed.releases] == ["v0.3.77", "v0.3.76"]
    assert listed.releases[1].html_url == "" and listed.releases[1].name == "a [31mb c"
    skipped = [r.getMessage() for r in caplog.records if "skipping a release" in r.getMessage()]
    assert len(skipped) == 4


async def test_the_token_is_sent_as_bearer_and_never_logged(
    data_dir: Path, github: FakeGitHub, clock: Clock, sleeps: Sleeps
) -> None:
    token = "ghp_" + "S3cr3t" * 6
    log_file = data_dir / "logs" / "comfy-tui.log"
    handler = setup_logging(log_file, secrets=[])  # no masking help: nothing may log the token
    try:
        logging.getLogger("comfy_tui").setLevel(logging.DEBUG)
        github.per_page_cap = 2
        github.script = ["500", "drop"]
        svc = service(data_dir, github.url, clock, sleeps, github_token=token)
        await svc.list()
        github.script = ["primary"]
        await svc.list(refresh=True)
    finally:
        handler.close()
    assert {s.headers.get("Authorization") for s in github.requests} == {f"Bearer {token}"}
    text = log_file.read_text()
    assert "GitHub" in text and token not in text and "S3cr3t" not in text


async def test_pagination_to_another_host_is_refused(
    data_dir: Path, github: FakeGitHub, clock: Clock, sleeps: Sleeps
) -> None:
    svc = service(data_dir, github.url, clock, sleeps, github_token="ghp_x")
    github.per_page_cap = 2
    github.link_origin = github.url.replace("127.0.0.1", "localhost")
    listed = await svc.list()
    assert listed.source == "none" and "another host" in listed.error
    assert len(github.requests) == 1


def test_github_repo_parsing() -> None:
    ref = github_repo("https://github.com/comfyanonymous/ComfyUI.git")
    assert ref is not None and str(ref) == "comfyanonymous/ComfyUI"
    assert str(github_repo("https://github.com/Comfy-Org/ComfyUI/")) == "Comfy-Org/ComfyUI"
    for url in (
        "file:///srv/ComfyUI.git",
        "https://gitlab.com/a/b.git",
        "http://github.com/a/b",
        "https://github.com/a",
        "https://github.com/a/b/c",
        "https://github.com/a/..",
    ):
        assert github_repo(url) is None, url

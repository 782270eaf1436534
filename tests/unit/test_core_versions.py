"""The version parser orders tags as releases, not as strings; prereleases first and flagged."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from comfy_tui.core.versions import (
    is_prerelease,
    parse_version,
    sort_newest_first,
    sort_oldest_first,
    version_key,
)


def test_numeric_not_string_order() -> None:
    tags = ["v0.45.2", "v0.3.75", "v0.4.0", "v0.3.9", "v0.33.1", "v0.8.1"]
    assert sort_oldest_first(tags) == [
        "v0.3.9",
        "v0.3.75",
        "v0.4.0",
        "v0.8.1",
        "v0.33.1",
        "v0.45.2",
    ]
    assert sort_newest_first(tags) == list(reversed(sort_oldest_first(tags)))


def test_prereleases_sort_before_their_release_and_are_flagged() -> None:
    tags = [
        "v0.4.0",
        "v0.4.0-rc1",
        "v0.4.0-rc2",
        "v0.4.0-beta.1",
        "v0.4.0a1",
        "v0.3.75",
        "v0.4.0.dev3",
    ]
    assert sort_oldest_first(tags) == [
        "v0.3.75",
        "v0.4.0.dev3",
        "v0.4.0a1",
        "v0.4.0-beta.1",
        "v0.4.0-rc1",
        "v0.4.0-rc2",
        "v0.4.0",
    ]
    assert is_prerelease("v0.4.0-rc1") and is_prerelease("v1.0.0-alpha")
    assert not is_prerelease("v0.4.0") and not is_prerelease("latest")


def test_unparseable_tags_sort_last_by_name() -> None:
    tags = ["nightly", "v0.3.1", "latest", "v0.2"]
    assert sort_oldest_first(tags) == ["v0.2", "v0.3.1", "latest", "nightly"]
    assert sort_newest_first(tags) == ["v0.3.1", "v0.2", "latest", "nightly"]


@pytest.mark.parametrize(
    ("tag", "release", "pre"),
    [
        ("v0.3.77", (0, 3, 77), False),
        ("0.4", (0, 4), False),
        ("v0.4.0", (0, 4), False),  # trailing zeros do not matter: v0.4 == v0.4.0
        ("V1.2.3+build.5", (1, 2, 3), False),
        ("v2.0.0-RC3", (2,), True),
    ],
)
def test_parse(tag: str, release: tuple[int, ...], pre: bool) -> None:
    version = parse_version(tag)
    assert version is not None
    assert version.release == release and version.is_prerelease == pre


@pytest.mark.parametrize("tag", ["", "v", "latest", "v1..2", "v1.2.3-foo", "1.2.3.4.5.6.7", "v1.x"])
def test_not_versions(tag: str) -> None:
    assert parse_version(tag) is None


parts = st.lists(st.integers(0, 500), min_size=1, max_size=4)


def tag_of(release: list[int], pre: tuple[str, int] | None) -> str:
    text = "v" + ".".join(map(str, release))
    return text + (f"-{pre[0]}{pre[1]}" if pre else "")


@given(parts, parts)
def test_order_matches_the_numbers(a: list[int], b: list[int]) -> None:
    def norm(p: list[int]) -> tuple[int, ...]:
        while len(p) > 1 and p[-1] == 0:
            p = p[:-1]
        return tuple(p)

    ka, kb = parse_version(tag_of(a, None)), parse_version(tag_of(b, None))
    assert ka is not None and kb is not None
    assert (ka < kb) == (norm(a) < norm(b))
    assert (ka == kb) == (norm(a) == norm(b))


@given(parts, st.sampled_from(["dev", "a", "alpha", "b", "beta", "rc"]), st.integers(0, 99))
def test_a_prerelease_precedes_its_release(release: list[int], label: str, n: int) -> None:
    final, pre = tag_of(release, None), tag_of(release, (label, n))
    assert version_key(pre) < version_key(final)
    assert is_prerelease(pre) and not is_prerelease(final)


@given(st.lists(st.text(alphabet="v0123456789.-rcab", max_size=8), max_size=12))
def test_sorting_is_total_and_stable(tags: list[str]) -> None:
    once = sort_newest_first(tags)
    assert sorted(once) == sorted(tags)
    assert sort_newest_first(list(reversed(tags))) == once
    assert sort_oldest_first(once) == sort_oldest_first(tags)

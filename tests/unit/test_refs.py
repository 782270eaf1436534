"""core/refs.py: which refs are accepted, and the names their versions get."""

from __future__ import annotations

import pytest

from comfy_tui.core.refs import default_name, is_commit_id, validate_ref
from comfy_tui.errors import ValidationError


@pytest.mark.parametrize("ref", ["master", "v0.3.77", "feature/x-1", "1a2b3c4", "release+1.0"])
def test_good_refs(ref: str) -> None:
    assert validate_ref(ref) == ref


@pytest.mark.parametrize(
    "ref", ["", "-x", "a..b", "a//b", "a/", "/a", "a.", "a.lock", "x/.y", "a b", "a@{1}", "é"]
)
def test_bad_refs_are_one_line(ref: str) -> None:
    with pytest.raises(ValidationError) as info:
        validate_ref(ref)
    assert "\n" not in str(info.value) and "invalid version tag or git ref" in str(info.value)


def test_names() -> None:
    sha = "1a2b3c4d5e6f"
    assert default_name("v0.4.0", "tag", sha) == "v0.4.0"
    assert default_name("master", "branch", sha) == "master-1a2b3c4"
    assert default_name("feature/x", "branch", sha) == "feature-x-1a2b3c4"
    assert default_name(sha, "commit", sha) == "1a2b3c4"
    assert is_commit_id("1a2b3c4") and not is_commit_id("1a2b3c") and not is_commit_id("master")

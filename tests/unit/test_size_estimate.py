"""core/size_estimate.py: a resolution's wheel sizes summed, stored estimates read back."""

from __future__ import annotations

import pytest

from comfy_tui.core.size_estimate import SizeEstimate, from_pylock, size_text

LOCK = """
lock-version = "1.0"
created-by = "uv"

[[packages]]
name = "torch"
version = "2.5.1"
wheels = [
  { url = "https://files.example/torch-linux.whl", size = 900 },
  { url = "https://files.example/torch-mac.whl", size = 700 },
]

[[packages]]
name = "tinydep"
version = "1.0"
wheels = [{ url = "file:///wheels/tinydep-1.0-py3-none-any.whl" }]

[[packages]]
name = "oldthing"
version = "0.1"
sdist = { url = "https://files.example/oldthing-0.1.tar.gz" }
"""


def test_wheel_sizes_add_up_local_files_are_measured_and_sdists_named() -> None:
    seen = []

    def local_size(path: str) -> int | None:
        seen.append(path)
        return 100

    estimate = from_pylock(LOCK, local_size)
    assert estimate.download_bytes == 900 + 100  # the largest wheel of a package counts
    assert estimate.disk_bytes == 2 * 1000
    assert estimate.basis == "the wheel sizes of 2 packages (1 without a size: oldthing)"
    assert seen == ["/wheels/tinydep-1.0-py3-none-any.whl"]


def test_a_missing_local_wheel_counts_as_unsized() -> None:
    estimate = from_pylock(LOCK, lambda path: None)
    assert estimate.download_bytes == 900
    assert "2 without a size: tinydep, oldthing" in estimate.basis


@pytest.mark.parametrize("text", ["not toml [", "lock-version = '1.0'\n"])
def test_not_a_lock_file(text: str) -> None:
    with pytest.raises(ValueError, match=r"not a pylock\.toml"):
        from_pylock(text, lambda path: None)


def test_stored_estimates_round_trip_and_bad_ones_are_ignored() -> None:
    estimate = SizeEstimate(10, 20, "the wheel sizes of 1 packages")
    assert SizeEstimate.from_json(estimate.to_json()) == estimate
    assert SizeEstimate.from_json({"download_bytes": None, "disk_bytes": 5, "basis": "x"}) == (
        SizeEstimate(None, 5, "x")
    )
    for bad in (None, [], {"disk_bytes": -1, "basis": "x"}, {"disk_bytes": 1, "basis": 2},
                {"download_bytes": "9", "disk_bytes": 1, "basis": "x"}):  # fmt: skip
        assert SizeEstimate.from_json(bad) is None


def test_size_text() -> None:
    assert size_text(None) == ""
    assert size_text(SizeEstimate(None, 3 << 30, "x")) == "~3.0 GiB"
    assert size_text(SizeEstimate(1 << 30, 2 << 30, "x")) == "~2.0 GiB / 1.0 GiB"

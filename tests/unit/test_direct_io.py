"""O_DIRECT segment writes: which file systems, aligned middles, buffered heads and tails."""

from __future__ import annotations

import errno
import itertools
import os
from collections.abc import Sequence
from pathlib import Path

import pytest

from comfy_tui.services.downloads import direct_io
from comfy_tui.services.downloads.direct_io import ALIGN, STAGE, file_system
from comfy_tui.services.downloads.partfile import PartFile

MOUNTS = """\
/dev/vda / ext4 rw,relatime 0 0
tmpfs /dev/shm tmpfs rw 0 0
server:/models /mnt/my\\040models nfs4 rw 0 0
/dev/vdb /mnt/my\\040models/local xfs rw 0 0
"""


def test_the_file_system_is_the_longest_mount_above_the_path() -> None:
    assert file_system(Path("/home/u/models"), MOUNTS) == "ext4"
    assert file_system(Path("/dev/shm/x"), MOUNTS) == "tmpfs"
    assert file_system(Path("/mnt/my models/checkpoints"), MOUNTS) == "nfs4"
    assert file_system(Path("/mnt/my models/local/a"), MOUNTS) == "xfs"
    assert file_system(Path("/mnt/my"), MOUNTS) == "ext4"  # not inside "/mnt/my models"


def test_only_local_block_file_systems_get_direct_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(direct_io, "file_system", lambda path: "nfs4")
    assert not direct_io.supported(tmp_path / "m.bin")
    monkeypatch.setattr(direct_io, "file_system", lambda path: "ext4")
    assert direct_io.supported(tmp_path / "m.bin") == hasattr(os, "O_DIRECT")


def open_part(tmp_path: Path, total: int) -> PartFile:
    part = PartFile(tmp_path / "m.bin")
    part.open()
    part.allocate(total)
    return part


def test_unaligned_ranges_land_where_they_belong(tmp_path: Path) -> None:
    total = 3 * STAGE + 12_345
    data = os.urandom(total)
    part = open_part(tmp_path, total)
    if not part.use_direct():
        part.close()
        pytest.skip("this file system takes no O_DIRECT writes")
    # Unaligned cuts, chunks of odd sizes, one range shorter than a block, written out of order.
    cuts = [0, 1000, 5000, STAGE + 17, 2 * STAGE + ALIGN, 3 * STAGE + 3, total]
    spans = list(itertools.pairwise(cuts))
    for start, end in reversed(spans):
        piece = data[start:end]
        part.write_at(start, [piece[:777], piece[777:70_001], piece[70_001:]])
    part.close()
    assert (tmp_path / "m.bin.part").read_bytes() == data


class Refusing:
    """A direct writer the file system refuses (EINVAL), as a 64 KiB-block device would."""

    fd = -1

    def write(self, offset: int, views: Sequence[memoryview]) -> None:
        raise OSError(errno.EINVAL, "Invalid argument")

    def close(self) -> None:
        pass


def test_a_refused_direct_write_falls_back_to_the_page_cache(tmp_path: Path) -> None:
    data = os.urandom(5 * ALIGN + 99)
    part = open_part(tmp_path, len(data) + 11)
    part._direct, part._direct_on = Refusing(), True  # type: ignore[assignment]
    part.write_at(11, [data])
    assert not part._direct_on  # buffered from now on
    part.close()
    assert (tmp_path / "m.bin.part").read_bytes() == bytes(11) + data


def test_appended_batches_of_odd_sizes_go_direct_and_are_counted(tmp_path: Path) -> None:
    data = os.urandom(2 * STAGE + 3 * ALIGN + 5)
    part = PartFile(tmp_path / "m.bin")
    part.open()
    if not part.use_direct():
        part.close()
        pytest.skip("this file system takes no O_DIRECT writes")
    cuts = [0, 10, ALIGN + 1, STAGE + 333, 2 * STAGE + 3 * ALIGN, len(data)]
    for start, end in itertools.pairwise(cuts):
        middle = min(start + 100, end)
        part.write([data[start:middle], data[middle:end]], at=start)
        assert part.size == end
    part.close()
    assert (tmp_path / "m.bin.part").read_bytes() == data

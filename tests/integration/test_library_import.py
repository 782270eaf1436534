"""Imports: hardlink on one filesystem, verified copy across, move, duplicates, name clashes."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from comfy_tui.errors import ComfyTuiError, NotFoundError, ValidationError
from comfy_tui.events import Progress
from comfy_tui.services.library import importer
from comfy_tui.services.library.importer import ImportOutcome
from comfy_tui.services.library.service import LibraryService
from tests.fakes import models as fm
from tests.integration.library_helpers import drain, make_library


def library_files(library: LibraryService) -> list[str]:
    root = library.main_root()
    return sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() or p.is_symlink()
    )


async def run_import(library: LibraryService, *sources: Path, **kw: object) -> list[ImportOutcome]:
    outcomes: list[ImportOutcome] = []
    await drain(library.import_paths(list(sources), outcomes=outcomes, **kw))  # type: ignore[arg-type]
    return outcomes


@pytest.fixture(params=["tmpfs", "simulated"])
def other_fs(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A folder on another filesystem: a real tmpfs, and a simulated one where hard links are
    refused with EXDEV (what the kernel says across filesystems), so the same code path runs."""
    if request.param == "tmpfs":
        shm = Path("/dev/shm")
        if not (shm.is_dir() and os.access(shm, os.W_OK)):
            pytest.skip("no writable /dev/shm")
        if shm.stat().st_dev == tmp_path.stat().st_dev:
            pytest.skip("/dev/shm is on the same filesystem as the tests")
        with tempfile.TemporaryDirectory(dir=shm) as folder:
            yield Path(folder)
        return
    folder = tmp_path / "other-fs"
    folder.mkdir()
    real_link = os.link

    def link(src: object, dst: object, *args: object, **kw: object) -> None:
        if str(src).startswith(str(folder)):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        real_link(src, dst, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(importer.os, "link", link)
    yield folder


async def test_default_is_a_hardlink_with_folder_from_the_header(
    data_dir: Path, tmp_path: Path
) -> None:
    library = make_library(data_dir)
    source = fm.write_safetensors(tmp_path / "dl" / "my_style.safetensors", fm.sdxl_lora())
    (outcome,) = await run_import(library, source)
    assert (outcome.action, outcome.relpath) == ("hardlinked", "loras/my_style.safetensors")
    target = library.main_root() / "loras" / "my_style.safetensors"
    assert target.stat().st_ino == source.stat().st_ino
    (model,) = await library.list_models()
    assert model.sha256 == outcome.sha256 and model.kind == "lora"
    assert list(library.paths.library_staging().iterdir()) == []


async def test_copy_and_move_on_one_filesystem(data_dir: Path, tmp_path: Path) -> None:
    library = make_library(data_dir)
    a = fm.write_safetensors(tmp_path / "a.safetensors", fm.sd_vae())
    b = fm.write_safetensors(tmp_path / "b.safetensors", fm.t5_xxl())
    (copied,) = await run_import(library, a, mode="copy")
    (moved,) = await run_import(library, b, mode="move")
    assert (copied.action, copied.relpath) == ("copied", "vae/a.safetensors")
    assert (moved.action, moved.relpath) == ("moved", "text_encoders/b.safetensors")
    root = library.main_root()
    assert (root / "vae" / "a.safetensors").stat().st_ino != a.stat().st_ino
    assert (root / "vae" / "a.safetensors").read_bytes() == a.read_bytes()
    assert not b.exists()


async def test_across_filesystems_copy_is_verified_and_link_refused(
    data_dir: Path, other_fs: Path
) -> None:
    library = make_library(data_dir)
    source = fm.write_safetensors(other_fs / "clip_l.safetensors", fm.clip_l())
    with pytest.raises(ComfyTuiError, match="another filesystem"):
        await run_import(library, source, mode="link")
    assert library_files(library) == []
    (outcome,) = await run_import(library, source)
    assert (outcome.action, outcome.relpath) == ("copied", "text_encoders/clip_l.safetensors")
    assert (library.main_root() / outcome.relpath).read_bytes() == source.read_bytes()
    moved_source = fm.write_safetensors(other_fs / "m.safetensors", fm.sd_vae())
    (moved,) = await run_import(library, moved_source, mode="move")
    assert moved.action == "moved" and not moved_source.exists()
    assert list(library.paths.library_staging().iterdir()) == []


async def test_same_content_is_not_stored_twice(data_dir: Path, tmp_path: Path) -> None:
    library = make_library(data_dir)
    first = fm.write_safetensors(tmp_path / "one" / "x.safetensors", fm.sd15_checkpoint())
    again = fm.write_safetensors(tmp_path / "two" / "renamed.safetensors", fm.sd15_checkpoint())
    await run_import(library, first, mode="copy")
    (outcome,) = await run_import(library, again, mode="copy")
    assert (outcome.action, outcome.relpath) == ("already present", "checkpoints/x.safetensors")
    assert library_files(library) == ["checkpoints/x.safetensors"]


async def test_unhashed_library_files_of_the_same_size_are_checked(
    data_dir: Path, tmp_path: Path
) -> None:
    library = make_library(data_dir)
    fm.write_safetensors(library.main_root() / "loras" / "old.safetensors", fm.sd15_lora())
    await drain(library.scan())
    source = fm.write_safetensors(tmp_path / "new.safetensors", fm.sd15_lora())
    (outcome,) = await run_import(library, source)
    assert (outcome.action, outcome.relpath) == ("already present", "loras/old.safetensors")


async def test_same_name_other_content_gets_a_suffix(data_dir: Path, tmp_path: Path) -> None:
    library = make_library(data_dir)
    a = fm.write_safetensors(tmp_path / "a" / "style.safetensors", fm.sdxl_lora())
    b = fm.write_safetensors(tmp_path / "b" / "style.safetensors", fm.sdxl_lora(), salt=b"B")
    c = fm.write_safetensors(tmp_path / "c" / "style.safetensors", fm.sdxl_lora(), salt=b"C")
    for source in (a, b, c):
        await run_import(library, source)
    assert library_files(library) == [
        "loras/style-1.safetensors",
        "loras/style-2.safetensors",
        "loras/style.safetensors",
    ]
    assert len({m.sha256 for m in await library.list_models()}) == 3


async def test_folders_import_recursively_keeping_comfyui_layout(
    data_dir: Path, tmp_path: Path
) -> None:
    library = make_library(data_dir)
    old = tmp_path / "ComfyUI" / "models"
    fm.write_safetensors(old / "loras" / "anime" / "a.safetensors", fm.sd15_lora())
    fm.write_safetensors(old / "checkpoints" / "base.safetensors", fm.sdxl_checkpoint())
    fm.write_safetensors(old / "clip" / "t5.safetensors", fm.t5_xxl())
    (old / "checkpoints" / "legacy.ckpt").write_bytes(b"\x80\x04pickle")
    (old / "checkpoints" / "put_model_here").write_text("")
    await run_import(library, old)
    assert library_files(library) == [
        "checkpoints/base.safetensors",
        "checkpoints/legacy.ckpt",
        "loras/anime/a.safetensors",
        "text_encoders/t5.safetensors",
    ]
    solo = tmp_path / "loras"
    fm.write_safetensors(solo / "sub" / "b.safetensors", fm.sd15_lora(), salt=b"x")
    (outcome,) = await run_import(library, solo)
    assert outcome.relpath == "loras/sub/b.safetensors"


async def test_a_folder_import_goes_on_past_files_it_cannot_place(
    data_dir: Path, tmp_path: Path
) -> None:
    """An unrecognised file in the middle of a folder is skipped and reported; what comes
    before and after it is imported."""
    library = make_library(data_dir)
    drop = tmp_path / "downloads"
    fm.write_safetensors(drop / "a-vae.safetensors", fm.sd_vae())
    fm.write_safetensors(drop / "m-odd.safetensors", fm.keys(["what"]))
    (drop / "n-legacy.ckpt").write_bytes(b"\x80\x04pickle, never loaded")
    fm.write_safetensors(drop / "z-lora.safetensors", fm.sd15_lora())
    outcomes = await run_import(library, drop)
    skipped = {Path(o.source).name: o.reason for o in outcomes if o.action == "skipped"}
    assert sorted(skipped) == ["m-odd.safetensors", "n-legacy.ckpt"]
    assert all("pass --folder" in reason for reason in skipped.values())
    assert library_files(library) == ["loras/z-lora.safetensors", "vae/a-vae.safetensors"]
    assert (drop / "m-odd.safetensors").exists() and (drop / "n-legacy.ckpt").exists()


async def test_the_cli_reports_skipped_files_and_imports_the_rest(
    data_dir: Path, tmp_path: Path
) -> None:
    drop = tmp_path / "downloads"
    fm.write_safetensors(drop / "m-odd.safetensors", fm.keys(["what"]))
    fm.write_safetensors(drop / "z-lora.safetensors", fm.sd15_lora())
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "comfy_tui", "--data-dir", str(data_dir),
        "models", "import", str(drop),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()
    text = out.decode()
    assert f"skipped         {drop / 'm-odd.safetensors'}: cannot tell which folder" in text
    assert "loras/z-lora.safetensors" in text
    assert "1 imported, 0 already in the library, 1 skipped" in err.decode()


async def test_explicit_folder_and_the_file_parent_name(data_dir: Path, tmp_path: Path) -> None:
    library = make_library(data_dir)
    pickle_file = tmp_path / "upscale" / "4x.pth"
    pickle_file.parent.mkdir()
    pickle_file.write_bytes(b"\x80\x04never loaded")
    with pytest.raises(ValidationError, match="pass --folder"):
        await run_import(library, pickle_file)
    (outcome,) = await run_import(library, pickle_file, folder="upscale_models")
    assert outcome.relpath == "upscale_models/4x.pth"
    in_vae = fm.write_safetensors(tmp_path / "vae" / "odd.safetensors", fm.keys(["what"]))
    (outcome,) = await run_import(library, in_vae)
    assert outcome.relpath == "vae/odd.safetensors"


def _lora(t: Path) -> Path:
    return fm.write_safetensors(t / "x.safetensors", fm.sdxl_lora())


def _text(t: Path) -> Path:
    (t / "notes.txt").write_text("x")
    return t / "notes.txt"


def _empty(t: Path) -> Path:
    (t / "empty").mkdir()
    return t / "empty"


@pytest.mark.parametrize(
    ("make", "kw", "needle"),
    [
        (lambda t: t / "missing.safetensors", {}, "no such file"),
        (_lora, {"folder": "../up"}, "invalid folder"),
        (_lora, {"folder": "a/b"}, "invalid folder"),
        (_text, {"folder": "loras"}, "not a model file"),
        (_empty, {}, "no model files"),
    ],
    ids=["missing", "dotdot-folder", "nested-folder", "not-a-model", "empty-dir"],
)
async def test_bad_input_changes_nothing(
    data_dir: Path, tmp_path: Path, make: object, kw: dict[str, str], needle: str
) -> None:
    library = make_library(data_dir)
    good = fm.write_safetensors(tmp_path / "good" / "ok.safetensors", fm.sd_vae())
    bad = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(ValidationError, match=needle):
        await run_import(library, good, bad, **kw)
    assert library_files(library) == []
    assert await library.list_models() == []


async def test_a_file_already_inside_the_library_is_refused(data_dir: Path) -> None:
    library = make_library(data_dir)
    inside = fm.write_safetensors(library.main_root() / "loras" / "x.safetensors", fm.sdxl_lora())
    with pytest.raises(ValidationError, match="already inside the library"):
        await run_import(library, inside)


async def test_cancel_mid_copy_leaves_nothing(data_dir: Path, tmp_path: Path) -> None:
    library = make_library(data_dir)
    big = tmp_path / "big.safetensors"
    big.write_bytes(fm.safetensors_bytes(fm.keys(["w"], dtype="F32", shape=(2, 2))))
    with big.open("ab") as f:  # the header stays valid; the bytes after it do not matter
        f.truncate(96 * 1024 * 1024)
    started = asyncio.Event()

    async def consume() -> None:
        async for event in library.import_paths([big], folder="checkpoints", mode="copy"):
            if isinstance(event, Progress):
                started.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(started.wait(), 30)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert list(library.paths.library_staging().iterdir()) == []
    assert library_files(library) == []
    assert await library.list_models() == []


async def test_remove_goes_to_the_trash_and_restores(data_dir: Path, tmp_path: Path) -> None:
    library = make_library(data_dir)
    source = fm.write_safetensors(tmp_path / "x.safetensors", fm.sdxl_lora())
    await run_import(library, source, mode="copy")
    model = await library.find("loras/x.safetensors")
    assert await library.find("x.safetensors") == model
    assert await library.find(str(model.path)) == model
    entry = await library.remove(model)
    assert await library.list_models() == []
    assert entry.file.is_file() and entry.file.is_relative_to(library.paths.library_trash())
    assert library_files(library) == []
    with pytest.raises(NotFoundError):
        await library.find("x.safetensors")
    fm.write_safetensors(library.main_root() / "loras" / "x.safetensors", fm.sd15_lora())
    assert [e.id for e in await library.trash()] == [entry.id]
    restored = await library.restore(entry.id)
    assert restored == "loras/x-1.safetensors"
    assert await library.trash() == []
    assert sorted(m.relpath for m in await library.list_models()) == [
        "loras/x-1.safetensors",
        "loras/x.safetensors",
    ]
    with pytest.raises(NotFoundError):
        await library.find("nothing/x.safetensors")
    fm.write_safetensors(library.main_root() / "vae" / "x-1.safetensors", fm.sd_vae())
    await drain(library.scan())
    with pytest.raises(ValidationError, match="give folder/name"):
        await library.find("x-1.safetensors")


async def test_two_imports_at_once_take_turns(data_dir: Path, tmp_path: Path) -> None:
    library = make_library(data_dir)
    a = fm.write_safetensors(tmp_path / "a.safetensors", fm.sdxl_lora())
    b = fm.write_safetensors(tmp_path / "b.safetensors", fm.sd_vae())
    first, second = await asyncio.gather(run_import(library, a), run_import(library, b))
    assert [o.relpath for o in first + second] == ["loras/a.safetensors", "vae/b.safetensors"]
    assert len(await library.list_models()) == 2

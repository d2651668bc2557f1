"""Writing files: atomic writes, conflict policies, write failures, temporary files."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import imgcall
from imgcall import OutputError, tempfiles, writing
from imgcall.cli import cli
from imgcall.manifest import MANIFEST_NAME
from imgcall.tempfiles import TEMP_SUFFIX
from imgcall.writing import write_file
from tests.conftest import ITEMS_DIR

from .helpers import finishes, item, noise_png, png


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(TEMP_SUFFIX)]


# --- one file ------------------------------------------------------------------------------


def test_decoded_image_save_still_works(tmp_path: Path) -> None:
    image = imgcall.decode(json.loads((ITEMS_DIR / "png.json").read_text()))
    path = image.save(f"{tmp_path / 'single'}{os.sep}")
    assert path.name == "ig_png.png" and path.read_bytes() == image.data


@pytest.mark.parametrize(
    ("policy", "outcome", "name", "again"),
    [
        ("skip", "skipped", "ig.png", "skipped"),
        ("rename", "saved", "ig-1.png", "exists"),
        ("overwrite", "overwritten", "ig.png", "exists"),
    ],
)
def test_write_file_policies(
    tmp_path: Path, policy: str, outcome: str, name: str, again: str
) -> None:
    (tmp_path / "ig.png").write_bytes(b"other")
    result = write_file(tmp_path, "ig", "png", b"new", on_conflict=policy)
    assert (result.path, result.outcome) == (tmp_path / name, outcome)
    # Writing the same bytes again finds them where the first write put them.
    second = write_file(tmp_path, "ig", "png", b"new", on_conflict=policy)
    assert (second.path, second.outcome) == (tmp_path / name, again)


@pytest.mark.parametrize("where", [0, 1_500_000, -1], ids=["first", "middle", "last"])
def test_large_files_differing_in_one_byte_are_not_the_same(tmp_path: Path, where: int) -> None:
    # Existing files are compared a slice at a time; a difference in any slice counts.
    data = noise_png(800)
    assert len(data) > 1_800_000
    other = bytearray(data)
    other[where] ^= 0x01
    (tmp_path / "ig.png").write_bytes(bytes(other))
    assert write_file(tmp_path, "ig", "png", data, on_conflict="skip").outcome == "skipped"
    (tmp_path / "ig.png").write_bytes(data)
    assert write_file(tmp_path, "ig", "png", data, on_conflict="skip").outcome == "exists"
    (tmp_path / "ig.png").write_bytes(data + b"\x00")
    assert write_file(tmp_path, "ig", "png", data, on_conflict="skip").outcome == "skipped"


def test_write_file_refuses_to_clobber_by_default(tmp_path: Path) -> None:
    (tmp_path / "ig.png").write_bytes(b"other")
    with pytest.raises(imgcall.OutputExistsError, match="on_conflict"):
        write_file(tmp_path, "ig", "png", b"new")
    assert (tmp_path / "ig.png").read_bytes() == b"other"
    with pytest.raises(ValueError, match="on_conflict"):
        write_file(tmp_path, "ig", "png", b"new", on_conflict="replace")


def test_symlink_in_the_way_is_replaced_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.png"
    outside.write_bytes(b"precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / "ig_png.png").symlink_to(outside)

    report = imgcall.save_images(ITEMS_DIR / "png.json", out, on_conflict="overwrite")

    assert report.records[0].outcome == "overwritten"
    assert outside.read_bytes() == b"precious"
    assert not (out / "ig_png.png").is_symlink()


# --- write failures, temporary files -------------------------------------------------------


def test_full_disk_is_an_output_error_and_the_run_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import imgcall.writing as writing

    real_write = writing._write_fd
    big = noise_png(40)

    def full_disk(fd: int, data: bytes) -> None:
        if len(data) > 1000:
            os.write(fd, data[:100])  # part of it got out before the disk filled up
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(fd, data)

    monkeypatch.setattr(writing, "_write_fd", full_disk)
    out = tmp_path / "out"
    items = [item("small1", png((1, 1, 1))), item("big", big), item("small2", png((2, 2, 2)))]

    report = imgcall.save_images(items, out)

    assert [r.outcome for r in report] == ["saved", "failed", "saved"]
    error = report.records[1].error
    assert isinstance(error, OutputError)
    assert "no space left" in str(error) and str(out.resolve() / "big.png") in str(error)
    assert error.id == "big"
    assert sorted(p.name for p in out.iterdir()) == [MANIFEST_NAME, "small1.png", "small2.png"]
    assert temp_files(tmp_path) == []


def test_interrupted_write_leaves_no_file_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import imgcall.writing as writing

    def interrupted(fd: int, data: bytes) -> None:
        os.write(fd, data[:10])
        raise KeyboardInterrupt

    monkeypatch.setattr(writing, "_write_fd", interrupted)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        imgcall.save_images(ITEMS_DIR / "png.json", out, manifest=False)
    assert not out.exists()  # not even the folder: the run saved nothing


@pytest.mark.skipif(
    sys.platform == "win32" or os.geteuid() == 0, reason="needs a user that permissions stop"
)
def test_read_only_folder_is_an_output_error_naming_the_path(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o555)
    try:
        report = imgcall.save_images(ITEMS_DIR / "items_list.json", out)
    finally:
        out.chmod(0o755)
    assert report.failed and all(isinstance(r.error, OutputError) for r in report.failed)
    assert "permission denied" in str(report.records[0].error)
    assert str(out.resolve()) in str(report.records[0].error)
    assert list(out.iterdir()) == []


def test_output_folder_that_is_a_file_fails_before_any_work(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.write_bytes(b"")
    with pytest.raises(OutputError, match="it is a file"):
        imgcall.save_images(ITEMS_DIR / "items_list.json", out, manifest=False)
    with pytest.raises(OutputError, match=r"cannot create the output folder .*sub"):
        imgcall.save_images(ITEMS_DIR / "items_list.json", out / "sub", manifest=False)


# --- special files at final names ----------------------------------------------------------

# Each of these would hang (a FIFO opened for reading waits for a writer) or reach outside
# the folder (a symlink) if imgcall opened, read or followed what is at a final name.
SPECIAL_KINDS = ["fifo", "folder", "socket", "symlink", "device"]
KIND_WORDS = {
    "fifo": "a FIFO",
    "folder": "a folder",
    "socket": "a socket",
    "symlink": "a symlink",
    "device": "a device",
}


@contextlib.contextmanager
def special_file(kind: str, path: Path, data: bytes) -> Iterator[Path]:
    """Plant a ``kind`` thing at ``path``; yields what must stay untouched after the run."""
    sock: socket.socket | None = None
    keep = path
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
        (path / "inside.txt").write_bytes(b"keep me")
    elif kind == "socket":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        # A relative name keeps under the 108-byte limit of socket paths.
        cwd = os.getcwd()
        os.chdir(path.parent)
        try:
            sock.bind(path.name)
        finally:
            os.chdir(cwd)
    elif kind == "symlink":
        # Outside the folder, with exactly the bytes about to be saved.
        keep = path.parent.parent / "outside.png"
        keep.write_bytes(data)
        path.symlink_to(keep)
    elif kind == "device":
        try:
            os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # like /dev/null
        except PermissionError:
            pytest.skip("creating a device node needs root")
    try:
        yield keep
    finally:
        if sock is not None:
            sock.close()


def assert_untouched(kind: str, keep: Path, data: bytes) -> None:
    if kind == "symlink":
        assert keep.read_bytes() == data
    elif kind == "folder":
        assert (keep / "inside.txt").read_bytes() == b"keep me"
    else:
        mode = os.lstat(keep).st_mode
        expected = {"fifo": stat.S_ISFIFO, "socket": stat.S_ISSOCK, "device": stat.S_ISCHR}
        assert expected[kind](mode)


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs, sockets and devices are POSIX")
@pytest.mark.parametrize("kind", SPECIAL_KINDS)
@pytest.mark.parametrize("policy", ["error", "skip", "rename", "overwrite"])
@pytest.mark.parametrize("way", ["run", "write_file"])
@pytest.mark.parametrize("files", ["anonymous", "named"])
def test_special_file_at_a_final_name_is_a_conflict_never_opened(
    tmp_path: Path, kind: str, policy: str, way: str, files: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if files == "named":  # the way of systems without anonymous files (O_TMPFILE)
        monkeypatch.setattr(tempfiles, "_O_TMPFILE", 0)
    data = png((9, 99, 199))
    out = tmp_path / "out"
    out.mkdir()
    target = out / "ig.png"
    source = tmp_path / "items.json"
    # From a file, the run stages the image in the folder and links it into place; the
    # in-memory write_file takes the other way there.
    source.write_text(json.dumps({"output": [item("ig", data)]}))
    with special_file(kind, target, data) as keep:

        def save() -> tuple[str, Path | None, BaseException | None]:
            if way == "run":
                record = imgcall.save_images(source, out, on_conflict=policy).records[0]  # type: ignore[arg-type]
                return record.outcome, record.path, record.error
            try:
                result = write_file(out, "ig", "png", data, on_conflict=policy)
            except imgcall.ImgcallError as exc:
                return "failed", None, exc
            return result.outcome, result.path, None

        outcome, path, error = finishes(save, unblock=target if kind == "fifo" else None)

        if policy == "overwrite" and kind != "folder":
            # The name itself is replaced, atomically: nothing is written through it.
            assert (outcome, path) == ("overwritten", target)
            assert stat.S_ISREG(os.lstat(target).st_mode) and target.read_bytes() == data
            if kind == "symlink":
                assert_untouched(kind, keep, data)
            return
        assert_untouched(kind, keep, data)
        if policy == "error":
            assert outcome == "failed" and isinstance(error, imgcall.OutputExistsError)
            assert f"is {KIND_WORDS[kind]}, not an image file" in str(error)
        elif policy == "skip":
            assert (outcome, path) == ("skipped", target)
        elif policy == "rename":
            assert (outcome, path) == ("saved", out / "ig-1.png")
            assert (out / "ig-1.png").read_bytes() == data
        else:  # overwrite: a folder is never replaced
            assert outcome == "failed" and isinstance(error, OutputError)
            assert "a folder has that name" in str(error)
        assert temp_files(tmp_path) == []


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs are POSIX")
def test_extract_reports_a_fifo_at_a_final_name_and_goes_on(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / "ig_list_1.png")
    runner = CliRunner()

    result = finishes(
        lambda: runner.invoke(cli, ["extract", str(ITEMS_DIR / "items_list.json"), "-o", str(out)]),
        unblock=out / "ig_list_1.png",
    )

    assert result.exit_code == 1
    assert "ig_list_1.png already exists and is a FIFO" in result.stderr
    assert result.stdout.strip().endswith("ig_list_2.webp")
    assert stat.S_ISFIFO(os.lstat(out / "ig_list_1.png").st_mode)


# --- one metadata operation per file: anonymous files (Linux O_TMPFILE) ---------------------


def record_links(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The source of every os.link call (the real one still runs)."""
    sources: list[str] = []
    real_link = os.link

    def link(src: Any, dst: Any, **kwargs: Any) -> None:
        sources.append(os.fspath(src))
        real_link(src, dst, **kwargs)

    monkeypatch.setattr(os, "link", link)
    return sources


@pytest.mark.skipif(not tempfiles._O_TMPFILE, reason="no anonymous files (O_TMPFILE) here")
def test_a_new_file_has_no_name_until_it_is_complete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One metadata operation: the file is written without a name and linked into place
    # (issue 15), never created under a temporary name that is then linked and removed.
    created: list[str] = []
    real_open = os.open

    def watched_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if flags & os.O_CREAT:
            created.append(os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    sources = record_links(monkeypatch)
    monkeypatch.setattr(os, "open", watched_open)
    data = noise_png(30)

    result = write_file(tmp_path / "out", "ig", "png", data)

    assert result.outcome == "saved" and result.path.read_bytes() == data
    assert created == []  # O_TMPFILE, not O_CREAT: no name ever pointed at a partial file
    assert len(sources) == 1 and sources[0].startswith("/proc/self/fd/")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["ig.png"]
    # An existing name is never written through: linkat fails and the bytes are compared.
    assert write_file(tmp_path / "out", "ig", "png", data).outcome == "exists"
    assert write_file(tmp_path / "out", "ig", "png", data, on_conflict="rename").path.name == (
        "ig.png"
    )


@pytest.mark.skipif(not tempfiles._O_TMPFILE, reason="no anonymous files (O_TMPFILE) here")
def test_a_file_system_that_cannot_link_anonymous_files_gets_named_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_link = os.link

    def no_anonymous_links(src: Any, dst: Any, **kwargs: Any) -> None:
        if os.fspath(src).startswith("/proc/self/fd/"):
            raise OSError(errno.EPERM, "Operation not permitted")
        real_link(src, dst, **kwargs)

    monkeypatch.setattr(os, "link", no_anonymous_links)
    monkeypatch.setattr(tempfiles, "_NO_ANONYMOUS", set())
    out = tmp_path / "out"
    items = [item(f"ig_{n}", png((n, 1, 2))) for n in range(3)]

    report = imgcall.save_images(items, out)

    assert [r.outcome for r in report] == ["saved"] * 3
    assert [(out / f"ig_{n}.png").read_bytes() for n in range(3)] == [
        png((n, 1, 2)) for n in range(3)
    ]
    assert {str(out.resolve())} == tempfiles._NO_ANONYMOUS  # asked once, then remembered
    assert temp_files(tmp_path) == []


def test_probing_a_folder_another_run_removed_meanwhile_makes_it_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two runs started together into a new folder: each makes it, probes it and removes
    # it again; one saw "No such file or directory" when the other's removal came
    # between its mkdir and its probe file.
    folder = tmp_path / "new" / "out"
    real = writing.temp_path
    removed: list[Path] = []

    def peer_removes_it_first(where: Path) -> Path:
        if not removed:
            where.rmdir()  # what the other run's clean-up does at that moment
            removed.append(where)
        return real(where)

    monkeypatch.setattr(writing, "temp_path", peer_removes_it_first)
    writing.probe_folder(folder)
    assert removed == [folder]
    assert not (tmp_path / "new").exists()  # made for the probe, removed again

    def always_gone(where: Path) -> Path:
        where.rmdir()
        return real(where)

    monkeypatch.setattr(writing, "temp_path", always_gone)
    with pytest.raises(OutputError, match=r"cannot create the output folder .*No such file"):
        writing.probe_folder(folder)

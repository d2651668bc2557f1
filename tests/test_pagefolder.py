"""The folders a gallery is made from: a local folder and a prefix in object storage
(fsspec's memory:// file system), held to the same answers."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from imgcall.objectstore import ObjectPath
from imgcall.pagefolder import LocalFolder, PageFolder, StoreFolder, page_folder

fsspec = pytest.importorskip("fsspec")


@pytest.fixture
def store_url() -> Iterator[str]:
    root = f"/imgcall-{uuid.uuid4().hex}"
    yield f"memory://{root}/out"
    with contextlib.suppress(FileNotFoundError):
        fsspec.filesystem("memory").rm(root, recursive=True)


def _fill(folder: PageFolder) -> None:
    folder.write("a.png", b"\x89PNG" + b"a" * 100)
    folder.write("index.html", b"<html>")
    assert folder.subfolder(".thumbs") is None
    folder.write(".thumbs/t.jpg", b"jpeg")


@pytest.fixture(params=["local", "store"])
def folder(request: pytest.FixtureRequest, tmp_path: Path, store_url: str) -> PageFolder:
    made = page_folder(tmp_path if request.param == "local" else store_url, None)
    _fill(made)
    return made


def test_both_kinds_answer_alike(folder: PageFolder) -> None:
    assert folder.size("a.png") == 104 and folder.exists("a.png")
    assert folder.size("gone.png") is None and not folder.exists("gone.png")
    assert folder.read("a.png", 104) == b"\x89PNG" + b"a" * 100
    with pytest.raises(OSError, match="over 103 bytes"):
        folder.read("a.png", 103)
    assert folder.head("index.html", 3) == b"<ht"
    with folder.open("index.html") as fh:
        assert fh.read() == b"<html>"
    with pytest.raises(FileNotFoundError):
        folder.open("gone.html")
    assert folder.listing(".thumbs") == ["t.jpg"]
    folder.remove(".thumbs/t.jpg")
    folder.remove(".thumbs/t.jpg")  # gone already: nothing to do
    assert folder.listing(".thumbs") == []
    assert folder.subfolder("a.png") is not None  # a file has that name
    assert str(folder.location("a.png")).endswith("/out/a.png") or isinstance(
        folder.location("a.png"), Path
    )


def test_a_local_folder_never_follows_what_is_not_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_bytes(b"secret")
    (tmp_path / "link.png").symlink_to(tmp_path / "secret.txt")
    os.mkfifo(tmp_path / "fifo.png")
    (tmp_path / "linked").symlink_to(tmp_path, target_is_directory=True)
    folder = LocalFolder(tmp_path)
    for name in ("link.png", "fifo.png"):
        assert folder.exists(name) and folder.size(name) is None
        with pytest.raises(OSError):
            folder.read(name, 100)  # never opened for reading through the link or FIFO
    assert folder.subfolder("linked") == "is not a folder (a symlink or a file is there)"


def test_a_store_folder_lists_once_and_refuses_large_objects_unread(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fs, root = fsspec.core.url_to_fs(store_url)
    for k in range(20):
        fs.pipe_file(f"{root}/ig_{k}.png", b"x" * (k + 1))
    folder = page_folder(ObjectPath(store_url), None)
    assert isinstance(folder, StoreFolder)
    calls: list[str] = []
    real_ls, real_cat = type(fs).ls, type(fs).cat_file

    def ls(self: Any, path: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(f"ls {path}")
        return real_ls(self, path, *args, **kwargs)

    def cat_file(self: Any, path: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(f"cat {path}")
        return real_cat(self, path, *args, **kwargs)

    monkeypatch.setattr(type(fs), "ls", ls)
    monkeypatch.setattr(type(fs), "cat_file", cat_file)
    assert [folder.size(f"ig_{k}.png") for k in range(20)] == list(range(1, 21))
    assert calls == [f"ls {root}"]
    with pytest.raises(OSError, match="over 10 bytes"):
        folder.read("ig_19.png", 10)
    assert calls == [f"ls {root}"]  # refused from the listing, never downloaded
    assert folder.title == "out"

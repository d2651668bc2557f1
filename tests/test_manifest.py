"""The manifest file: replaced by a run's first line, whole lines only, never followed."""

from __future__ import annotations

import errno
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

import pytest

import imgcall
from imgcall.manifest import MANIFEST_NAME, Manifest
from imgcall.records import ItemRecord
from tests.conftest import ITEMS_DIR

from .helpers import finishes


def record(outcome: Any, **fields: Any) -> ItemRecord:
    return ItemRecord(
        index=0, input="in.json", id="ig_1", status="completed", outcome=outcome, **fields
    )


def manifest_lines(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / MANIFEST_NAME).read_text().splitlines()]


def test_manifest_replaces_the_previous_run_then_appends(tmp_path: Path) -> None:
    (tmp_path / MANIFEST_NAME).write_text("an older run\n")
    manifest = Manifest(tmp_path / MANIFEST_NAME)
    manifest.write(record("saved"))
    manifest.write(record("exists"))
    manifest.close()
    assert [line["outcome"] for line in manifest_lines(tmp_path)] == ["saved", "exists"]


def test_manifest_symlink_is_replaced_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("precious")
    out = tmp_path / "out"
    out.mkdir()
    (out / MANIFEST_NAME).symlink_to(outside)
    imgcall.save_images(ITEMS_DIR / "png.json", out)
    assert outside.read_text() == "precious"
    assert not (out / MANIFEST_NAME).is_symlink()
    assert len(manifest_lines(out)) == 1


@pytest.mark.skipif(sys.platform == "win32", reason="FIFOs are POSIX")
def test_manifest_fifo_is_replaced_never_opened(tmp_path: Path) -> None:
    # Opened for writing, a FIFO with no reader blocks forever.
    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / MANIFEST_NAME)
    report = finishes(lambda: imgcall.save_images(ITEMS_DIR / "png.json", out), out / MANIFEST_NAME)
    assert report.ok and report.manifest == out / MANIFEST_NAME
    assert stat.S_ISREG(os.lstat(out / MANIFEST_NAME).st_mode)
    assert [line["id"] for line in manifest_lines(out)] == ["ig_png"]


def test_a_manifest_line_that_fails_half_way_is_cut_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = Manifest(tmp_path / MANIFEST_NAME)
    manifest.write(record("saved"))
    real_write = os.write

    def disk_fills_up(fd: int, data: Any) -> int:
        real_write(fd, bytes(data[:10]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", disk_fills_up)
    with pytest.raises(imgcall.OutputError, match="no space left"):
        manifest.write(record("exists", revised_prompt="x" * 500))
    monkeypatch.setattr(os, "write", real_write)
    manifest.write(record("skipped"))
    manifest.close()
    # Only whole lines: the half-written one is gone and the next follows the first.
    text = (tmp_path / MANIFEST_NAME).read_text()
    assert text.endswith("\n")
    assert [line["outcome"] for line in manifest_lines(tmp_path)] == ["saved", "skipped"]

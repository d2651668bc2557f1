"""Temporary files: a dead run's leftovers are cleared, a live run's never touched."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import imgcall
from imgcall.tempfiles import TEMP_SUFFIX, remove_stale_temp_files
from tests.conftest import ITEMS_DIR


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temp_files_of_dead_processes_are_removed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    stale = out / f".0a1b2c3d4e5f.{dead_pid()}{TEMP_SUFFIX}"
    ours = out / f".0a1b2c3d4e50.{os.getpid()}{TEMP_SUFFIX}"
    alive = out / f".0a1b2c3d4e51.{os.getppid()}{TEMP_SUFFIX}"
    unrelated = out / "notes.imgcall-tmp.txt"
    for path in (stale, ours, alive, unrelated):
        path.write_bytes(b"half an image")

    imgcall.save_images(ITEMS_DIR / "png.json", out)

    assert not stale.exists()
    assert ours.exists() and alive.exists() and unrelated.exists()


def test_remove_stale_temp_files_on_a_missing_folder(tmp_path: Path) -> None:
    assert remove_stale_temp_files(tmp_path / "missing") == []

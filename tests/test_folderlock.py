"""One run per output folder: the lock, waiting, refusal, killed holders, real runs at once."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

import imgcall
import imgcall.folderlock as folderlock
from imgcall.folderlock import LOCK_NAME, FolderLock
from imgcall.manifest import MANIFEST_NAME
from tests.conftest import ITEMS_DIR

from .helpers import HANG_BUDGET, finishes, item, noise_png

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the tests use POSIX processes")

REPO = Path(__file__).resolve().parent.parent
# A real ``imgcall`` command line whose lock wait is the first argument.
CLI_WITH_WAIT = (
    "import sys, imgcall.folderlock as lock; lock.LOCK_WAIT = float(sys.argv.pop(1)); "
    "from imgcall.cli import main; sys.argv[0] = 'imgcall'; main()"
)
RUN_BUDGET = 120  # seconds for a subprocess; a run here takes one or two


def cli_process(*args: str, wait: float | None = None, **popen: Any) -> subprocess.Popen[str]:
    if wait is None:
        command = [sys.executable, "-m", "imgcall", *args]
    else:
        command = [sys.executable, "-c", CLI_WITH_WAIT, str(wait), *args]
    return subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        **popen,
    )


def manifest_lines(out: Path) -> list[dict[str, Any]]:
    data = (out / MANIFEST_NAME).read_bytes()
    assert data.endswith(b"\n"), "the last line is not whole"
    return [json.loads(line) for line in data.split(b"\n")[:-1]]


def wait_for_holder(out: Path, pid: int) -> None:
    """Block until the run ``pid`` holds ``out`` (it names itself in the lock file)."""
    done = threading.Event()

    def poll() -> None:
        while not done.wait(0.02):
            try:
                if json.loads((out / LOCK_NAME).read_text())["pid"] == pid:
                    return
            except (OSError, ValueError, KeyError):
                continue

    try:
        finishes(poll)
    finally:
        done.set()


# --- in one process ------------------------------------------------------------------------


def test_a_run_into_a_held_folder_is_refused_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(folderlock, "LOCK_WAIT", 0.2)
    out = tmp_path / "out"
    out.mkdir()
    holder = FolderLock(out)
    assert holder.acquire() and holder.held
    try:
        with pytest.raises(imgcall.OutputLockedError) as caught:
            imgcall.save_images(ITEMS_DIR / "items_list.json", out)
        message = str(caught.value)
        assert f"{out.resolve()} is in use by another imgcall run (pid {os.getpid()} on " in message
        assert "waited 0.2 s" in message and "started 20" in message
        assert isinstance(caught.value, imgcall.OutputError)
        assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]  # nothing read or written
        # Without a manifest a run does not need the folder to itself.
        assert imgcall.save_images(ITEMS_DIR / "png.json", out, manifest=False).ok
    finally:
        holder.release()
    assert not (out / LOCK_NAME).exists()
    report = imgcall.save_images(ITEMS_DIR / "items_list.json", out)
    assert report.ok and len(manifest_lines(out)) == 2
    assert not (out / LOCK_NAME).exists()


def test_a_waiting_run_goes_on_once_the_holder_leaves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(folderlock, "LOCK_WAIT", HANG_BUDGET)
    out = tmp_path / "out"
    out.mkdir()
    holder = FolderLock(out)
    holder.acquire()
    leave = threading.Timer(0.3, holder.release)
    leave.start()
    try:
        report = finishes(lambda: imgcall.save_images(ITEMS_DIR / "items_list.json", out))
    finally:
        leave.join()
    assert report.ok and [line["id"] for line in manifest_lines(out)] == ["ig_list_1", "ig_list_2"]


def test_a_folder_the_run_creates_is_locked_and_left_clean(tmp_path: Path) -> None:
    out = tmp_path / "new" / "out"
    imgcall.save_images(ITEMS_DIR / "png.json", out)
    assert sorted(p.name for p in out.iterdir()) == ["ig_png.png", MANIFEST_NAME]


@pytest.mark.parametrize("kind", ["fifo", "symlink", "folder"])
def test_something_else_at_the_lock_name_refuses_the_run(tmp_path: Path, kind: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    lock = out / LOCK_NAME
    outside = tmp_path / "outside"
    outside.write_text("keep")
    if kind == "fifo":
        os.mkfifo(lock)
    elif kind == "symlink":
        lock.symlink_to(outside)
    else:
        lock.mkdir()

    def run() -> None:
        imgcall.save_images(ITEMS_DIR / "png.json", out)

    with pytest.raises(imgcall.OutputLockedError, match="other than a regular file"):
        finishes(run, unblock=lock if kind == "fifo" else None)
    assert outside.read_text() == "keep" and not (out / "ig_png.png").exists()


# --- real processes ------------------------------------------------------------------------


def test_a_lock_left_by_a_killed_run_does_not_block_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    code = (
        "import sys; from pathlib import Path; from imgcall.folderlock import FolderLock; "
        "FolderLock(Path(sys.argv[1])).acquire(); print('held', flush=True); "
        "import time; time.sleep(600)"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, text=True, cwd=REPO
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(RUN_BUDGET)
        if holder.stdout is not None:
            holder.stdout.close()
    # The dead run's details are still in the file, but the kernel let go of its lock.
    assert json.loads((out / LOCK_NAME).read_text())["pid"] == holder.pid
    monkeypatch.setattr(folderlock, "LOCK_WAIT", 0.0)
    assert imgcall.save_images(ITEMS_DIR / "png.json", out).ok
    assert not (out / LOCK_NAME).exists()


def test_a_second_extract_is_refused_naming_the_first(tmp_path: Path) -> None:
    out = tmp_path / "out"
    # The first run holds the folder from its start while it waits for standard input.
    first = cli_process("extract", "-", "-o", str(out), stdin=subprocess.PIPE)
    try:
        wait_for_holder(out, first.pid)
        second = cli_process("extract", str(ITEMS_DIR / "png.json"), "-o", str(out), wait=0.3)
        stdout, stderr = second.communicate(timeout=RUN_BUDGET)
        assert second.returncode == 2
        assert stdout == ""
        assert stderr.startswith(f"error: the output folder {out} is in use by another imgcall")
        assert f"(pid {first.pid} on " in stderr and "Traceback" not in stderr
        assert not (out / "ig_png.png").exists() and not (out / MANIFEST_NAME).exists()
        _, first_err = first.communicate(
            (ITEMS_DIR / "items_list.json").read_text(), timeout=RUN_BUDGET
        )
    finally:
        if first.poll() is None:
            first.kill()
            first.communicate(timeout=RUN_BUDGET)
    assert first.returncode == 0, first_err
    assert [line["id"] for line in manifest_lines(out)] == ["ig_list_1", "ig_list_2"]
    assert sorted(p.name for p in out.iterdir()) == [
        "ig_list_1.png",
        "ig_list_2.webp",
        MANIFEST_NAME,
    ]


def test_three_runs_at_once_into_one_folder(tmp_path: Path) -> None:
    # Same ids, different bytes, overwrite: unlocked, the runs interleaved manifest lines
    # (and left lines of one run beside files of another).
    out = tmp_path / "out"
    count = 150
    sources: list[Path] = []
    for run in range(3):
        source = tmp_path / f"batch{run}.jsonl"
        with source.open("w") as fh:
            for i in range(count):
                body = {"output": [item(f"ig_{i}", noise_png(48, seed=run * 1000 + i))]}
                fh.write(json.dumps({"custom_id": f"c{i}", "response": {"body": body}}) + "\n")
        sources.append(source)
    runs = [
        cli_process("extract", str(s), "-o", str(out), "--on-conflict", "overwrite", "-j", "2")
        for s in sources
    ]
    results = [(*p.communicate(timeout=RUN_BUDGET), p.returncode) for p in runs]

    finished = [i for i, (_, _, code) in enumerate(results) if code == 0]
    for stdout, stderr, code in results:
        if code != 0:  # waited a few seconds, then was refused
            assert code == 2 and stdout == "", stderr
            assert "is in use by another imgcall run (pid " in stderr
    assert finished, results
    lines = manifest_lines(out)
    # One run's lines, whole and in order, describing the files on disk.
    assert {line["input"] for line in lines} in [{str(sources[i])} for i in finished]
    assert [line["index"] for line in lines] == list(range(count))
    assert [line["id"] for line in lines] == [f"ig_{i}" for i in range(count)]
    for line in lines:
        assert hashlib.sha256(Path(line["path"]).read_bytes()).hexdigest() == line["sha256"]
    assert not (out / LOCK_NAME).exists()


def test_a_new_folder_removed_by_another_runs_probe_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Runs starting together into a folder that does not exist yet each probe it, and a
    # probe removes the folder again while it is empty: between one run's mkdir and its
    # lock file, another's probe can take the folder away (seen in the three-runs test).
    out = tmp_path / "out"
    out.mkdir()
    real_open = os.open
    removed: list[Path] = []

    def racing_open(path: Any, flags: int, *args: Any, **kwargs: Any) -> int:
        if os.fspath(path).endswith(LOCK_NAME) and not removed:
            out.rmdir()  # what the other run's probe_folder does at this moment
            removed.append(out)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", racing_open)
    lock = FolderLock(out, wait=0)
    assert lock.acquire()
    assert removed == [out] and (out / LOCK_NAME).is_file()
    lock.release()
    assert list(out.iterdir()) == []

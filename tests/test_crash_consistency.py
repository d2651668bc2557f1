"""Crash consistency: ``imgcall extract`` killed (SIGKILL) at seeded random moments.

After every kill, each file under a final name is complete (the exact bytes of its
item) and matches its manifest line, and the manifest is valid JSON Lines, every line
whole; a re-run over the same folder then completes with no failure. The runs are real
``python -m imgcall extract`` processes; the moments are chosen by a seeded generator
(so many printed lines in, plus a few milliseconds), the same on every machine.
"""

from __future__ import annotations

import hashlib
import json
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from imgcall.folderlock import LOCK_NAME
from imgcall.manifest import MANIFEST_NAME
from imgcall.tempfiles import TEMP_SUFFIX

from .helpers import item, noise_png

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX"),
]

REPO = Path(__file__).resolve().parent.parent
COUNT = 160
KILLS = 6
SEED = 20240613
RUN_BUDGET = 120  # seconds for one run; each takes one or two


def write_batch(path: Path) -> dict[str, bytes]:
    """A Batch API output file of ``COUNT`` distinct images; returns id -> bytes."""
    expected: dict[str, bytes] = {}
    with path.open("w") as fh:
        for i in range(COUNT):
            # Every tenth image is larger, so that some kills land inside a long write.
            data = noise_png(160 if i % 10 == 0 else 40, seed=i)
            expected[f"ig_{i:03d}"] = data
            body = {"output": [item(f"ig_{i:03d}", data)]}
            line = {"custom_id": f"req-{i}", "response": {"status_code": 200, "body": body}}
            fh.write(json.dumps(line) + "\n")
    return expected


def start(source: Path, out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "imgcall", "extract", str(source), "-o", str(out), "-j", "2"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )


def kill_after(run: subprocess.Popen[str], lines: int, delay: float) -> bool:
    """SIGKILL ``run`` once it has printed ``lines`` lines, plus ``delay`` seconds.

    Returns False if the run ended first (it was fast: nothing to kill).
    """
    assert run.stdout is not None
    seen = 0
    while seen < lines and run.stdout.readline():
        seen += 1
    time.sleep(delay)
    killed = run.poll() is None
    if killed:
        run.send_signal(signal.SIGKILL)
    # Drain both pipes so that a run that was not killed can end.
    drain = threading.Thread(target=run.communicate, daemon=True)
    drain.start()
    drain.join(RUN_BUDGET)
    assert run.returncode is not None, "the run did not end"
    # A run can end between poll() and the signal: then it was not killed, and ended well.
    if killed:
        assert run.returncode in (-signal.SIGKILL, 0)
    return run.returncode == -signal.SIGKILL


def manifest_lines(out: Path) -> list[dict[str, Any]]:
    path = out / MANIFEST_NAME
    if not path.exists():
        return []
    data = path.read_bytes()
    assert data == b"" or data.endswith(b"\n"), "the manifest's last line is not whole"
    return [json.loads(line) for line in data.split(b"\n")[:-1]]


def check_folder(out: Path, expected: dict[str, bytes]) -> list[dict[str, Any]]:
    """Every final name holds complete, right bytes that agree with the manifest."""
    for path in out.iterdir():
        if path.name.startswith("."):  # a killed run's temporary file or lock: not final
            assert path.name.endswith(TEMP_SUFFIX) or path.name == LOCK_NAME, path
            continue
        if path.name == MANIFEST_NAME:
            continue
        assert path.suffix == ".png" and path.stem in expected, path
        assert path.read_bytes() == expected[path.stem], f"{path} is not complete"
        with Image.open(path) as picture:
            picture.load()
    lines = manifest_lines(out)
    for line in lines:
        assert line["outcome"] in ("saved", "exists"), line
        path = Path(line["path"])
        assert path.parent == out.resolve()
        assert hashlib.sha256(path.read_bytes()).hexdigest() == line["sha256"]
    return lines


def test_killed_runs_leave_whole_files_and_a_valid_manifest(tmp_path: Path) -> None:
    source = tmp_path / "batch_output.jsonl"
    expected = write_batch(source)
    out = tmp_path / "out"
    rng = random.Random(SEED)
    killed = 0
    for _ in range(KILLS):
        run = start(source, out)
        # Anywhere from during start-up to the last images; then a few milliseconds more.
        lines = rng.randrange(0, COUNT)
        if kill_after(run, lines, rng.uniform(0.0, 0.03)):
            killed += 1
        if out.exists():
            check_folder(out, expected)
    assert killed >= KILLS // 2, "the runs ended before they could be killed"

    final = start(source, out)
    stdout, stderr = final.communicate(timeout=RUN_BUDGET)
    assert final.returncode == 0, stderr
    assert "error" not in stderr
    lines = check_folder(out, expected)
    assert [line["id"] for line in lines] == sorted(expected)
    assert len(stdout.splitlines()) == COUNT
    # The killed runs' leftovers are gone: temporary files of dead processes, the lock.
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [MANIFEST_NAME, *(f"{name}.png" for name in expected)]
    )

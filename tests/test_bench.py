"""The benchmark harness runs end to end (small corpora); it asserts no timing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_quick_benchmark_writes_its_reports(tmp_path: Path) -> None:
    out = tmp_path / "results"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--reps", "1", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads((out / "results.json").read_text())
    names = {row["variant"] for rows in report["scenarios"].values() for row in rows}
    assert {"imgcall library", "(a) json+base64", "(b) via Pillow", "(c) floor: copy"} <= names
    # Every variant ran and produced its images; a broken variant must not look fast.
    for rows in report["scenarios"].values():
        for row in rows:
            assert row["failures"] == 0, row["variant"]
    library, *_, chat = report["scenarios"]["document, library (work time)"]
    assert library["images"] == 3
    assert chat["variant"] == "imgcall library, chat completion" and chat["images"] == 3
    assert {t["name"] for t in report["targets"]} >= {"library vs (a), 40 MB doc"}
    # The -j 2 bound (two -j 1 processes on the halves) saves every line's image.
    lines = {row["variant"]: row for row in report["scenarios"]["JSON Lines, whole process"]}
    assert lines["two -j 1 on halves (bound)"]["images"] == lines["imgcall extract -j 1"]["images"]
    assert lines["imgcall extract -j 1"]["images"] == 20
    # The provider scenarios: the Gemini shape saves the same images as the OpenAI one.
    gemini = report["scenarios"]["Gemini response vs Responses document, library (work time)"]
    assert [row["images"] for row in gemini] == [3, 3]
    batch = report["scenarios"]["Gemini batch JSON Lines, whole process"]
    assert batch[0]["images"] == 10
    before = report["scenarios"]["known shapes before and after the registry"]
    assert [row["images"] for row in before] == [3, 3, 20, 20]
    # The gallery section: thumbnails made on one thread and on all, and the page size.
    gallery = {
        row["variant"]: row
        for row in report["scenarios"]["gallery (work time; images/s = thumbnails/s)"]
    }
    assert gallery["imgcall gallery, thumbnails, 1 thread"]["images"] == 4
    assert gallery["imgcall gallery, thumbnails, all cores"]["images"] == 4
    assert gallery["imgcall gallery, page of 2,000 items"]["images"] == 0
    targets = {t["name"]: t for t in report["targets"]}
    assert targets["gallery thumbnails/s, 1 thread (1024x1024 PNG)"]["value"] > 0
    assert 0.3 < targets["gallery page, KB per item (2,000 items)"]["value"] < 1.5
    remote = {row["variant"]: row for row in report["scenarios"]["S3 vs disk, whole process"]}
    assert remote["extract from S3 (moto, loopback)"]["images"] == 20
    assert remote["extract from S3 (moto, loopback)"]["failures"] == 0
    # Issue 15: every shape against the naive and the tuned script, on tmpfs, on the
    # default file system and pinned to one CPU; a quick run judges no target.
    small = {
        row["variant"]: row
        for row in report["scenarios"]["many small images, output on default fs (whole process)"]
    }
    assert {"imgcall extract, default fs", "(a) naive, default fs", "(t) tuned, default fs"} <= (
        set(small)
    )
    assert {row["images"] for row in small.values()} == {300}
    sse = report["scenarios"]["SSE transcript with partials, output on default fs (whole process)"]
    assert {row["images"] for row in sse} == {9}  # 3 finals and 6 partials, each once
    assert "default fs" in report["outputs"]
    if "tmpfs" in report["outputs"] and "no tmpfs" not in report["outputs"]["tmpfs"]:
        assert "many small images, output on tmpfs, pinned (whole process)" in report["scenarios"]
    assert report["judged"] is False
    assert all(t["met"] is None for t in report["targets"])
    assert "tiny.json vs python -c pass" in " ".join(targets)
    assert "judges no target" in done.stdout
    assert (out / "results.md").read_text().startswith("# imgcall benchmark results")
    assert (out / "results.png").read_bytes().startswith(b"\x89PNG")
    # The engines scenario (issue 16): processes save what threads save, and the CPU
    # model's figures are there.
    engines = {
        row["variant"]: row for row in report["scenarios"]["engines, JSON Lines, whole process"]
    }
    assert engines["extract --engine processes -j 2"]["images"] == 20
    assert engines["two -j 1 on halves (ideal split)"]["images"] == 20
    model = {row["variant"]: row for row in report["scenarios"]["engines, CPU model (library)"]}
    assert model["library, processes x2, small images"]["images"] == 400
    assert targets["CPU s per GB of large images (all processes)"]["value"] > 0
    assert 0 < targets["peak RSS per worker (MB)"]["value"] < 1000

"""The engines scenario (issue 16): processes against threads and the ideal split, and
the figures behind the scaling model in bench/README.md.

- ``imgcall extract --engine processes -j 2`` on the Batch JSON Lines file, alternating
  with ``-j 1`` (threads) and the ideal split (two ``-j 1`` processes on the halves):
  processes must reach 0.9x of the split and never be slower than threads;
- the same run through the library, reporting CPU seconds of the run itself (naming,
  linking, the manifest) and of its workers, and the largest worker's peak RSS
  (< 150 MB), on large images (the batch file) and on small ones (a file of 128x128
  PNGs): CPU seconds per GB of large images and per 1,000 small images.
"""

from __future__ import annotations

import json
import random
import shlex
import statistics
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

from bench import corpora

HERE = Path(__file__).resolve().parent


def small_images(path: Path, lines: int) -> tuple[Path, float]:
    """A batch file of ``lines`` distinct noisy 128x128 PNGs; returns it and the MB of
    images in it."""
    from PIL import Image

    pngs = []
    rng = random.Random(7)
    for _ in range(64):
        buffer = BytesIO()
        Image.frombytes("RGB", (128, 128), rng.randbytes(128 * 128 * 3)).save(buffer, "PNG")
        pngs.append(buffer.getvalue())
    corpora.write_jsonl(path, pngs, lines)
    mb = sum(len(pngs[n % len(pngs)]) for n in range(lines)) / 1e6
    return path, mb


def run_engines(
    scratch: Path,
    reps: int,
    quick: bool,
    jsonl: Path,
    *,
    cli: list[str],
    script: Callable[..., list[str]],
    variant: Callable[..., Any],
    measure: Callable[..., None],
    ratio: Callable[..., float],
    target: Callable[..., Any],
    target_cls: Callable[..., Any],
) -> tuple[dict[str, list[Any]], list[Any]]:
    """Measure the engines; returns the scenarios and the targets for the report."""
    jsonl_mb = corpora.file_mb(jsonl)
    threads = variant(
        "extract -j 1 (threads)",
        [*cli, "extract", str(jsonl), "-o", "{out}", "-q", "-j", "1"],
        jsonl_mb,
    )
    procs = variant(
        "extract --engine processes -j 2",
        [*cli, "extract", str(jsonl), "-o", "{out}", "-q", "--engine", "processes", "-j", "2"],
        jsonl_mb,
    )
    halves = corpora.split_halves(jsonl)
    per_half = [
        shlex.join([*cli, "extract", str(half), "-o", f"{{out}}/{n}", "-q", "-j", "1"])
        for n, half in enumerate(halves, 1)
    ]
    split = variant(
        "two -j 1 on halves (ideal split)",
        ["sh", "-c", f"{per_half[0]} & a=$!; {per_half[1]} & b=$!; wait $a && wait $b"],
        jsonl_mb,
    )
    measure([threads, procs, split], reps, scratch, "engines, JSON Lines, whole process")
    for half in halves:
        half.unlink()

    engine_script = HERE / "baselines" / "imgcall_engine.py"
    small, small_mb = small_images(scratch / "small.jsonl", 400 if quick else 4000)
    images_mb = _images_mb(jsonl)
    lib_large = variant(
        "library, processes x2, large images",
        script(engine_script, str(jsonl), "{out}", "processes", "2"),
        jsonl_mb,
    )
    lib_small = variant(
        "library, processes x2, small images",
        script(engine_script, str(small), "{out}", "processes", "2"),
        corpora.file_mb(small),
    )
    lib_small_t = variant(
        "library, threads x1, small images",
        script(engine_script, str(small), "{out}", "threads", "1"),
        corpora.file_mb(small),
    )
    measure([lib_large, lib_small, lib_small_t], max(2, reps - 2), scratch, "engines, CPU model")
    small.unlink()

    def cpu(v: Any, key: str) -> float:
        values = [r.extra.get(key) for r in v.runs if r.extra]
        return statistics.median(values) if values else float("nan")

    large_images = lib_large.runs[0].images if lib_large.runs else 0
    small_images_n = lib_small.runs[0].images if lib_small.runs else 0
    worker_rss = max(cpu(lib_large, "worker_rss_mb"), cpu(lib_small, "worker_rss_mb"))
    per_gb = (cpu(lib_large, "cpu_workers") + cpu(lib_large, "cpu_self")) / (images_mb / 1000)
    per_k_small = (cpu(lib_small, "cpu_workers") + cpu(lib_small, "cpu_self")) / (
        max(1, small_images_n) / 1000
    )
    parent_ms = 1000 * cpu(lib_small, "cpu_self") / max(1, small_images_n)
    parent_ms_large = 1000 * cpu(lib_large, "cpu_self") / max(1, large_images)
    targets = [
        target("processes -j 2 vs ideal split", ratio(split, procs), ">= 0.9x", 0.9),
        target("processes -j 2 vs threads -j 1", ratio(threads, procs), ">= 1.0x", 1.0),
        target("peak RSS per worker (MB)", worker_rss, "< 150 MB", 150.0, lower=True),
        target_cls(
            "CPU s per GB of large images (all processes)", round(per_gb, 3), "(measured)", None
        ),
        target_cls(
            "CPU s per 1,000 small images (128x128)", round(per_k_small, 3), "(measured)", None
        ),
        target_cls("run's own CPU ms per small image", round(parent_ms, 3), "(measured)", None),
        target_cls(
            "run's own CPU ms per large image", round(parent_ms_large, 3), "(measured)", None
        ),
    ]
    scenarios = {
        "engines, JSON Lines, whole process": [threads, procs, split],
        "engines, CPU model (library)": [lib_large, lib_small, lib_small_t],
    }
    print(json.dumps({"small_images_mb": small_mb, "large_images_mb": images_mb}))
    return scenarios, targets


def _images_mb(jsonl: Path) -> float:
    """MB of decoded images in a batch file (base64 is 4/3 of its bytes)."""
    return corpora.file_mb(jsonl) * 3 / 4

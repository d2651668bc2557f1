"""imgcall against the scripts users would write instead, on every shape (issue 15).

Each corpus runs as whole processes, start-up included, alternating (A B C A B C ...):

- ``imgcall extract`` (the default options: checks, atomic writes, manifest with SHA-256);
- (a) the naive script (``json`` + ``base64`` + write);
- (t) the tuned script a competent user writes (``orjson`` + ``pybase64`` + write);
- for the many-small-images corpus, the floor: copying the decoded files;
- for Batch JSON Lines, (f) the checked floor: a minimal loop doing the work imgcall
  promises (strict base64, PNG CRCs, SHA-256, files named only once complete, a
  manifest line each) and nothing else, which no general tool can beat on one core.

Placements: output on tmpfs (so that the file system's per-file cost does not hide
imgcall's own), on the default file system of the scratch folder, and on tmpfs again
with every contestant pinned to CPU 0 (``sched_setaffinity``, what ``taskset -c 0``
does), so that a lead cannot come from a second core. Ratios are contestant/imgcall,
paired per repetition, then the median: above 1 means imgcall is faster.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import corpora

HERE = Path(__file__).resolve().parent
BASELINES = HERE / "baselines"

SMALL_LINES = 10_000
"""Lines of the many-small-images corpus (one ~19 KB PNG each, ~26 KB of JSON a line)."""


@dataclass(frozen=True)
class Placement:
    """Where a scenario's output goes, and whether its contestants are pinned."""

    key: str
    """Short name used in variant names: ``tmpfs``, ``default fs``, ``tmpfs, pinned``."""
    root: Path
    pinned: bool = False


def filesystem_of(path: Path) -> str:
    """The type of the file system holding ``path`` (``ext4``, ``tmpfs``, ...), from
    /proc/mounts; ``unknown`` where that cannot be read."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return "unknown"
    target = str(path.resolve())
    best, kind = "", "unknown"
    for line in mounts:
        parts = line.split()
        if len(parts) < 3:
            continue
        point = parts[1].replace("\\040", " ")
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, kind = point, parts[2]
    return kind


def tmpfs_root(scratch: Path) -> tuple[Path | None, str, Callable[[], None]]:
    """A folder on tmpfs for outputs, a sentence saying which, and how to clean it up.

    ``/dev/shm`` where it is a writable tmpfs; otherwise a tmpfs mounted on a folder of
    ``scratch`` (needs root); otherwise none (the tmpfs placements are then skipped).
    """
    shm = Path("/dev/shm")
    if shm.is_dir() and filesystem_of(shm) == "tmpfs" and os.access(shm, os.W_OK):
        folder = Path(tempfile.mkdtemp(prefix="imgcall-bench-", dir=shm))
        return folder, "tmpfs at /dev/shm", lambda: shutil.rmtree(folder, ignore_errors=True)
    mount_point = scratch / "tmpfs"
    mount_point.mkdir(exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2g", "imgcall-bench", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if done.returncode == 0:

        def unmount() -> None:
            subprocess.run(["umount", str(mount_point)], capture_output=True, check=False)

        return mount_point, f"a tmpfs mounted at {mount_point}", unmount
    return None, "no tmpfs (/dev/shm is not one and mounting one failed)", lambda: None


def pin_to_one_cpu() -> None:
    """``preexec_fn`` of a pinned contestant: run on CPU 0 only, like ``taskset -c 0``."""
    os.sched_setaffinity(0, {0})


def run_contests(
    scratch: Path,
    reps: int,
    quick: bool,
    pngs: list[bytes],
    doc: Path,
    jsonl: Path,
    sse: Path,
    *,
    variant: Callable[..., Any],
    measure: Callable[..., None],
    ratio: Callable[..., float],
    target: Callable[..., Any],
    limit: Callable[..., Any],
    script: Callable[..., list[str]],
    cli: list[str],
) -> tuple[dict[str, list[Any]], list[Any], dict[str, str]]:
    """Every corpus against the naive and tuned scripts; ``(scenarios, targets, where)``."""
    scenarios: dict[str, list[Any]] = {}
    targets: list[Any] = []
    shm, shm_words, cleanup = tmpfs_root(scratch)
    default_fs = scratch / "outputs"
    default_fs.mkdir(exist_ok=True)
    where = {
        "tmpfs": shm_words,
        "default fs": f"{filesystem_of(default_fs)} at {default_fs}",
    }
    placements = [Placement("default fs", default_fs)]
    if shm is not None:
        placements = [Placement("tmpfs", shm), *placements, Placement("tmpfs, pinned", shm, True)]
    try:
        small_pngs = [corpora.noisy_png(seed, (80, 80)) for seed in range(10)]
        lines = 300 if quick else SMALL_LINES
        small = corpora.write_jsonl(scratch / "small.jsonl", small_pngs, lines)
        decoded = corpora.write_decoded(scratch / "small-decoded", small_pngs, lines)
        tiny = corpora.write_doc(scratch / "tiny.json", [corpora.noisy_png(7, (8, 8))])
        shapes = [
            ("many small images", small, ["--jsonl"], decoded, lines),
            ("JSON Lines, large images", jsonl, ["--jsonl"], None, None),
            ("40 MB document", doc, [], None, None),
            ("SSE transcript with partials", sse, ["--sse"], None, None),
        ]
        for label, source, flags, floor_dir, count in shapes:
            mb = corpora.file_mb(source)
            for place in placements:
                imgcall = variant(
                    f"imgcall extract, {place.key}",
                    [*cli, "extract", str(source), "-o", "{out}", "-q"]
                    + (["--partials"] if "--sse" in flags else []),
                    mb,
                )
                naive = variant(
                    f"(a) naive, {place.key}",
                    script(BASELINES / "naive_json.py", str(source), "{out}", *flags),
                    mb,
                )
                tuned = variant(
                    f"(t) tuned, {place.key}",
                    script(BASELINES / "tuned.py", str(source), "{out}", *flags),
                    mb,
                )
                contestants = [imgcall, naive, tuned]
                if "--sse" in flags:
                    contestants.remove(naive)  # the naive script reads no SSE
                if "--jsonl" in flags and sys.platform == "linux":
                    contestants.append(
                        variant(
                            f"(f) checked floor, {place.key}",
                            script(BASELINES / "checked_floor.py", str(source), "{out}"),
                            mb,
                        )
                    )
                threads = None
                if label == "many small images" and place.key == "tmpfs":
                    # -j N once took twice as long as -j 1 here: each 20 KB image went to a
                    # worker and back (bench/README.md, change 37).
                    threads = variant(
                        f"imgcall extract -j 2, {place.key}",
                        [*cli, "extract", str(source), "-o", "{out}", "-q", "-j", "2"],
                        mb,
                    )
                    contestants.append(threads)
                floor = None
                if floor_dir is not None and not place.pinned:
                    floor = variant(
                        f"(c) floor: copy, {place.key}",
                        script(BASELINES / "floor_copy.py", str(floor_dir), "{out}"),
                        mb,
                    )
                    contestants.append(floor)
                measure(
                    contestants,
                    reps,
                    scratch,
                    f"{label}, {place.key}",
                    out_root=place.root,
                    pinned=place.pinned,
                )
                scenarios[f"{label}, output on {place.key} (whole process)"] = contestants
                checked = next((v for v in contestants if v.name.startswith("(f)")), None)
                if checked is not None:
                    targets.append(
                        limit(
                            f"{label}, {place.key}: (f) checked floor vs imgcall",
                            ratio(checked, imgcall),
                        )
                    )
                    targets.append(
                        limit(
                            f"{label}, {place.key}: (t) tuned vs (f) checked floor",
                            ratio(tuned, checked),
                        )
                    )
                if threads is not None:
                    targets.append(
                        target(
                            f"{label}, {place.key}: -j 2 vs -j 1 (no slower)",
                            ratio(imgcall, threads),
                            ">= 0.9x",
                            0.9,
                        )
                    )
                largest = corpora.largest_line_mb(source)
                targets += _targets(
                    label, place, imgcall, naive, tuned, floor, ratio, target, limit, count, largest
                )
        # Start-up: a one-image response, against a bare interpreter.
        bare = variant("python -c pass", [*_child(cli), "code", "pass"], 0.0, uses_out=False)
        tiny_run = variant(
            "imgcall extract tiny.json", [*cli, "extract", str(tiny), "-o", "{out}", "-q"], 0.0
        )
        naive_tiny = variant(
            "(a) naive, tiny.json", script(BASELINES / "naive_json.py", str(tiny), "{out}"), 0.0
        )
        measure([bare, tiny_run, naive_tiny], max(reps, 7), scratch, "start-up, tiny.json")
        scenarios["start-up: one tiny image (whole process)"] = [bare, tiny_run, naive_tiny]
        targets.append(
            target(
                "imgcall extract tiny.json vs python -c pass",
                ratio(tiny_run, bare),
                "<= 4x",
                4.0,
                lower=True,
            )
        )
        targets.append(
            limit("(a) naive script on tiny.json vs python -c pass", ratio(naive_tiny, bare))
        )
        # What imgcall's start-up cannot go below: the interpreter with click imported.
        click_only = variant(
            "python -c 'import click'",
            [*_child(cli), "code", "import gc\ngc.disable()\nimport click"],
            0.0,
            uses_out=False,
        )
        bare_again = variant("python -c pass", [*_child(cli), "code", "pass"], 0.0, uses_out=False)
        # ... and the interpreter with every module the tiny run loads but imgcall's own
        # (click, pathlib, hashlib with OpenSSL, json, zlib-ng, pybase64, ...): what is
        # left of the 4x for imgcall's modules and the work itself.
        deps = variant(
            "python -c 'import <what a tiny run loads, but imgcall>'",
            [*_child(cli), "code", _import_all(_loaded_besides_imgcall(cli, tiny, scratch))],
            0.0,
            uses_out=False,
        )
        measure(
            [bare_again, click_only, deps], max(reps, 7), scratch, "start-up, its modules alone"
        )
        scenarios["start-up: click and the other modules a tiny run loads"] = [
            bare_again,
            click_only,
            deps,
        ]
        targets.append(limit("import click alone vs python -c pass", ratio(click_only, bare_again)))
        targets.append(
            limit(
                "import every module a tiny run loads but imgcall's own, vs python -c pass",
                ratio(deps, bare_again),
            )
        )
        small.unlink()
        shutil.rmtree(decoded, ignore_errors=True)
    finally:
        cleanup()
    return scenarios, targets, where


def _loaded_besides_imgcall(cli: list[str], tiny: Path, scratch: Path) -> list[str]:
    """The modules ``imgcall extract tiny.json`` has loaded at its end, but imgcall's."""
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print(*sorted(sys.modules), file=sys.__stderr__))\n"
        "from imgcall.cli import main\n"
        f"sys.argv = ['imgcall', 'extract', {str(tiny)!r}, '-o', {str(scratch / 'deps')!r}, '-q']\n"
        "main()\n"
    )
    done = subprocess.run([cli[0], "-c", code], capture_output=True, text=True, check=True)
    shutil.rmtree(scratch / "deps", ignore_errors=True)
    names = done.stderr.split()
    return [n for n in names if n.split(".")[0] != "imgcall" and n != "__main__"]


def _import_all(names: list[str]) -> str:
    """Source that imports each of ``names``, with the garbage collector held as
    imgcall's console script holds it during start-up (bench/README.md, change 40)."""
    return (
        "import gc\ngc.disable()\nimport importlib\n"
        f"for name in {names!r}:\n    importlib.import_module(name)\n"
    )


def _child(cli: list[str]) -> list[str]:
    """The measuring wrapper (``cli`` is ``[python, child.py, "imgcall"]``)."""
    return cli[:2]


def _targets(
    label: str,
    place: Placement,
    imgcall: Any,
    naive: Any,
    tuned: Any,
    floor: Any,
    ratio: Callable[..., float],
    target: Callable[..., Any],
    limit: Callable[..., Any],
    count: int | None,
    largest_mb: float,
) -> list[Any]:
    """The issue's targets for one corpus and placement (ratios: contestant/imgcall)."""
    out: list[Any] = []
    where = f"{label}, {place.key}"
    vs_naive = ratio(naive, imgcall) if naive.runs else float("nan")
    vs_tuned = ratio(tuned, imgcall)
    if label == "many small images":
        naive_goal, tuned_goal = (1.5, 0.8) if place.pinned else (2.0, 1.0)
        out.append(target(f"{where}: vs (a) naive", vs_naive, f">= {naive_goal}x", naive_goal))
        out.append(target(f"{where}: vs (t) tuned", vs_tuned, f">= {tuned_goal}x", tuned_goal))
        if floor is not None:
            out.append(limit(f"{where}: floor (c) vs imgcall", ratio(floor, imgcall)))
            out.append(limit(f"{where}: floor (c) vs (t) tuned", ratio(floor, tuned)))
        if count:
            seconds = imgcall.median("wall")
            out.append(limit(f"{where}: imgcall images/s", count / seconds if seconds else 0.0))
    elif label == "JSON Lines, large images":
        goal = 1.5 if place.pinned else 2.0
        out.append(target(f"{where}: vs (t) tuned", vs_tuned, f">= {goal}x", goal))
        out.append(limit(f"{where}: vs (a) naive", vs_naive))
    elif label == "40 MB document":
        out.append(target(f"{where}: vs (a) naive", vs_naive, ">= 2x", 2.0))
        out.append(target(f"{where}: vs (t) tuned", vs_tuned, ">= 1.3x", 1.3))
    else:  # SSE
        out.append(target(f"{where}: vs (t) tuned", vs_tuned, ">= 2x", 2.0))
        bound = largest_mb + 60
        out.append(
            target(
                f"{where}: imgcall peak RSS (MB)",
                imgcall.median("rss_mb"),
                f"<= largest record + 60 = {bound:.0f} MB",
                bound,
                lower=True,
            )
        )
        return out
    rss = imgcall.median("rss_mb")
    out.append(target(f"{where}: imgcall peak RSS (MB)", rss, "< 150 MB", 150.0, lower=True))
    return out

"""imgcall's benchmark: imgcall against the naive script and the floor, in one run.

    python -m bench                 # the full run (a few minutes)
    python -m bench --quick         # small corpora, 2 repetitions: checks the harness
                                    # works, judges no target
    python -m bench --big           # also scan and extract a 1 GB JSON Lines file (memory)

Every variant runs in its own process, alternating with the others (A B C A B C ...),
each into a fresh output folder made outside the timing. Reported: wall time (whole
process), the time of the work alone where the variant reports it, peak RSS (from
``wait4``), MB/s of input, images/s, and each target's ratio with the median of the
per-repetition ratios. These machines are shared and noisy, so only ratios between
variants of the same run are meaningful; no absolute time is a target.

Results go to ``bench/results/`` (JSON, Markdown, and a PNG plot).
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench import corpora
from bench.contest import pin_to_one_cpu, run_contests
from bench.engines import run_engines
from bench.plot import plot
from bench.providers import run_providers
from bench.remote import SMALL_TO_S3, run_remote

HERE = Path(__file__).resolve().parent
BASELINES = HERE / "baselines"
PY = sys.executable


@dataclass
class Run:
    """One process run of one variant."""

    wall: float
    work: float | None
    rss_mb: float
    images: int | None
    returncode: int
    page_bytes: int | None = None
    extra: dict[str, float] = field(default_factory=dict)
    """Anything else the variant reported (CPU seconds of its workers, ...)."""


@dataclass
class Variant:
    """A command to benchmark, and what its input is."""

    name: str
    argv: list[str]
    input_mb: float
    uses_out: bool = True
    runs: list[Run] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    """Extra environment variables (``PYTHONPATH`` for an older imgcall)."""

    def median(self, attr: str) -> float:
        values = [getattr(r, attr) for r in self.runs if getattr(r, attr) is not None]
        return statistics.median(values) if values else float("nan")


CHILD = [PY, str(HERE / "child.py")]


def imgcall_cmd() -> list[str]:
    """The imgcall console script, run through the measuring wrapper."""
    return [*CHILD, "imgcall"]


def script(path: Path, *args: str) -> list[str]:
    """A baseline script, run through the measuring wrapper."""
    return [*CHILD, "script", str(path), *args]


def run_once(
    argv: list[str],
    out: Path | None,
    extra_env: dict[str, str] | None = None,
    *,
    pinned: bool = False,
) -> Run:
    """Run ``argv`` (``{out}`` replaced) in a child process; wall time and peak RSS.

    ``pinned`` runs it on CPU 0 only (what ``taskset -c 0`` does).
    """
    args = [a.replace("{out}", str(out)) if out is not None else a for a in argv]
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        env = {**os.environ, **(extra_env or {}), "IMGCALL_BENCH_RSS": rss.name}
        pin = pin_to_one_cpu if pinned else None
        start = time.perf_counter()
        proc = subprocess.run(args, capture_output=True, env=env, check=False, preexec_fn=pin)
        wall = time.perf_counter() - start
        rss_text = Path(rss.name).read_text().strip()
    work = None
    images: int | None = None
    last = proc.stdout.strip().splitlines()[-1:] if proc.stdout.strip() else []
    page_bytes = None
    extra: dict[str, float] = {}
    if last and last[0].startswith(b'{"seconds"'):
        info = json.loads(last[0])
        work, images = info["seconds"], info["images"]
        page_bytes = info.get("page_bytes")
        extra = {k: v for k, v in info.items() if k not in ("seconds", "images", "page_bytes")}
    elif out is not None and out.is_dir():
        images = sum(1 for p in out.rglob("*") if p.suffix in (".png", ".jpg", ".webp", ".gif"))
    if proc.returncode != 0:
        sys.stderr.write(
            f"  ! {' '.join(args[2:5])}... exited {proc.returncode}: {proc.stderr[-500:]!r}\n"
        )
    rss = float(rss_text) if rss_text else float("nan")
    return Run(wall, work, rss, images, proc.returncode, page_bytes, extra)


def measure(
    variants: list[Variant],
    reps: int,
    scratch: Path,
    label: str,
    *,
    out_root: Path | None = None,
    pinned: bool = False,
) -> None:
    """Alternate the variants ``reps`` times, each into a fresh output folder.

    Output folders are made in ``out_root`` (default ``scratch``); ``pinned`` runs
    every variant on CPU 0 only.
    """
    print(f"{label}: {', '.join(v.name for v in variants)} x{reps}", flush=True)
    root = out_root or scratch
    for rep in range(reps):
        for variant in variants:
            out = root / f"out-{variant.name}-{rep}".replace("/", "_").replace(" ", "_")
            if out.exists():
                shutil.rmtree(out)
            variant.runs.append(
                run_once(
                    variant.argv, out if variant.uses_out else None, variant.env, pinned=pinned
                )
            )
            shutil.rmtree(out, ignore_errors=True)


def ratio(a: Variant, b: Variant, attr: str = "wall") -> float:
    """Median over repetitions of a/b, pairing the runs of the same repetition."""
    pairs = [
        getattr(x, attr) / getattr(y, attr)
        for x, y in zip(a.runs, b.runs, strict=True)
        if getattr(x, attr) and getattr(y, attr)
    ]
    return statistics.median(pairs) if pairs else float("nan")


@dataclass
class Target:
    """A ratio the project promises, and whether this run met it (or a limit it shows)."""

    name: str
    value: float
    goal: str
    met: bool | None  # None: a measured limit, reported beside the targets


def main(argv: list[str] | None = None) -> None:
    """Generate the corpora, run every scenario, and write the reports."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small corpora, 2 repetitions: checks the harness, judges no target",
    )
    parser.add_argument(
        "--big", action="store_true", help="also scan and extract a 1 GB JSON Lines file"
    )
    parser.add_argument("--reps", type=int, default=None, help="repetitions per scenario")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="report folder")
    parser.add_argument("--keep", type=Path, default=None, help="scratch folder to keep")
    args = parser.parse_args(argv)
    reps = args.reps or (2 if args.quick else 7)
    if args.quick:
        print(QUICK_NOTE.replace("**", ""), flush=True)
    scratch = Path(args.keep or tempfile.mkdtemp(prefix="imgcall-bench-"))
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        report = run_all(scratch, reps, quick=args.quick, big=args.big)
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)
    write_reports(report, args.out)


def byte_compile_imgcall() -> None:
    """Compile imgcall's modules to byte code, as pip does when it installs a wheel.

    Where ``PYTHONDONTWRITEBYTECODE`` is set (these machines set it) and imgcall is
    installed in editable mode, every measured start would otherwise compile imgcall
    from source (~25 ms), which no installed user pays.
    """
    import imgcall

    compileall.compile_dir(Path(imgcall.__file__).parent, quiet=1)


def run_all(scratch: Path, reps: int, *, quick: bool, big: bool) -> dict[str, object]:
    """Every scenario of issues 6 and 17; returns the data for the reports."""
    byte_compile_imgcall()
    n_images = 3 if quick else 10
    jsonl_lines = 20 if quick else 120
    pngs = corpora.images(n_images)
    doc = corpora.write_doc(scratch / "response.json", pngs)
    chat = corpora.write_chat_doc(scratch / "chat.json", pngs)
    jsonl = corpora.write_jsonl(scratch / "batch.jsonl", pngs, jsonl_lines)
    sse = corpora.write_sse(scratch / "stream.sse", pngs, items=n_images, partials=2)
    decoded = scratch / "decoded"
    decoded.mkdir(exist_ok=True)
    for i, data in enumerate(pngs):
        (decoded / f"ig_bench_{i:03d}.png").write_bytes(data)
    doc_mb, jsonl_mb, sse_mb = corpora.file_mb(doc), corpora.file_mb(jsonl), corpora.file_mb(sse)
    print(f"corpora: doc {doc_mb:.1f} MB, jsonl {jsonl_mb:.1f} MB, sse {sse_mb:.1f} MB", flush=True)
    cli = imgcall_cmd()
    scenarios: dict[str, list[Variant]] = {}
    targets: list[Target] = []

    # 1. Library on the document, against the baselines in-process (work time only).
    lib = Variant(
        "imgcall library", script(BASELINES / "imgcall_lib.py", str(doc), "{out}"), doc_mb
    )
    naive = Variant(
        "(a) json+base64", script(BASELINES / "naive_json.py", str(doc), "{out}"), doc_mb
    )
    pil = Variant("(b) via Pillow", script(BASELINES / "naive_pil.py", str(doc), "{out}"), doc_mb)
    floor = Variant(
        "(c) floor: copy", script(BASELINES / "floor_copy.py", str(decoded), "{out}"), doc_mb
    )
    # The same images as a chat completion's data: URLs, which take their own path.
    lib_chat = Variant(
        "imgcall library, chat completion",
        script(BASELINES / "imgcall_lib.py", str(chat), "{out}"),
        corpora.file_mb(chat),
    )
    measure([lib, naive, pil, floor, lib_chat], reps, scratch, "document, library")
    scenarios["document, library (work time)"] = [lib, naive, pil, floor, lib_chat]
    targets += [
        _target("library vs (a), 40 MB doc", ratio(naive, lib, "work"), ">= 3x", 3.0),
        _target("library vs (b), 40 MB doc", ratio(pil, lib, "work"), ">= 30x", 30.0),
        _target(
            "library within 5x of floor (c)", ratio(lib, floor, "work"), "<= 5x", 5.0, lower=True
        ),
    ]

    # 2. CLI, whole process, on the document.
    cli_doc = Variant("imgcall extract", [*cli, "extract", str(doc), "-o", "{out}", "-q"], doc_mb)
    naive_doc = Variant(
        "(a) script", script(BASELINES / "naive_json.py", str(doc), "{out}"), doc_mb
    )
    measure([cli_doc, naive_doc], reps, scratch, "document, whole process")
    scenarios["document, whole process"] = [cli_doc, naive_doc]
    targets.append(
        _target("CLI vs (a) script, 40 MB doc", ratio(naive_doc, cli_doc), ">= 1.3x", 1.3)
    )

    # 3. CLI, whole process, on the JSON Lines file; and -j 2 against -j 1.
    cli_j1 = Variant(
        "imgcall extract -j 1",
        [*cli, "extract", str(jsonl), "-o", "{out}", "-q", "-j", "1"],
        jsonl_mb,
    )
    cli_j2 = Variant(
        "imgcall extract -j 2",
        [*cli, "extract", str(jsonl), "-o", "{out}", "-q", "-j", "2"],
        jsonl_mb,
    )
    naive_l = Variant(
        "(a) script", script(BASELINES / "naive_json.py", str(jsonl), "{out}", "--jsonl"), jsonl_mb
    )
    # The bound on any -j 2 on this machine: the ideal split, two independent -j 1
    # processes started together, each on its own half of the lines (no coordination,
    # no shared manifest). A -j 2 does the same work and more, so it cannot beat this.
    halves = corpora.split_halves(jsonl)
    per_half = [
        [*cli, "extract", str(half), "-o", f"{{out}}/{n}", "-q", "-j", "1"]
        for n, half in enumerate(halves, 1)
    ]
    split = Variant("two -j 1 on halves (bound)", ["sh", "-c", _together(*per_half)], jsonl_mb)
    jreps = reps
    measure([cli_j1, cli_j2, split, naive_l], jreps, scratch, "JSON Lines, whole process")
    scenarios["JSON Lines, whole process"] = [cli_j1, cli_j2, split, naive_l]
    for half in halves:
        half.unlink()
    targets += [
        _target("CLI vs (a) script, JSON Lines", ratio(naive_l, cli_j1), ">= 2x", 2.0),
        _target(
            "CLI peak RSS, JSON Lines (MB)", cli_j1.median("rss_mb"), "< 150 MB", 150.0, lower=True
        ),
        _target("-j 2 vs -j 1, JSON Lines", ratio(cli_j1, cli_j2), ">= 1.5x", 1.5),
        Target(
            "bound on -j 2: two -j 1 on halves vs -j 1",
            round(ratio(cli_j1, split), 3),
            "(measured limit)",
            None,
        ),
    ]

    # 4. Start-up: --version and --help against a bare interpreter.
    bare = Variant("python -c pass", [*CHILD, "code", "pass"], 0.0, uses_out=False)
    version = Variant("imgcall --version", [*cli, "--version"], 0.0, uses_out=False)
    helptext = Variant("imgcall --help", [*cli, "--help"], 0.0, uses_out=False)
    measure([bare, version, helptext], max(reps, 5), scratch, "start-up")
    scenarios["start-up"] = [bare, version, helptext]
    targets += [
        _target("--version vs python -c pass", ratio(version, bare), "<= 10x", 10.0, lower=True),
        _target("--help vs python -c pass", ratio(helptext, bare), "<= 10x", 10.0, lower=True),
    ]

    # 5. Memory: scanning a whole document costs at most about twice its size.
    interp = Variant(
        "import imgcall only",
        [*CHILD, "code", "import imgcall; imgcall.save_images"],
        0.0,
        uses_out=False,
    )
    measure([interp], 1, scratch, "memory, interpreter")
    doc_growth = lib.median("rss_mb") - interp.median("rss_mb")
    chat_growth = lib_chat.median("rss_mb") - interp.median("rss_mb")
    targets += [
        _target("document: RSS growth / size", doc_growth / doc_mb, "<= ~2x", 2.0, lower=True),
        _target(
            "chat completion: RSS growth / size",
            chat_growth / lib_chat.input_mb,
            "<= ~2x",
            2.0,
            lower=True,
        ),
    ]

    # 6. Other providers' shapes, and the known shapes before and after the registry.
    more, more_targets = run_providers(
        scratch,
        reps,
        quick,
        pngs,
        doc,
        jsonl,
        variant=_variant,
        measure=measure,
        ratio=ratio,
        target=_target,
        script=script,
        cli=cli,
        interp_rss=interp.median("rss_mb"),
    )
    scenarios.update(more)
    targets += more_targets

    # 6b. Engines (issue 16): processes against threads and the ideal split; the CPU
    # figures of the scaling model in bench/README.md.
    more, more_targets = run_engines(
        scratch,
        reps,
        quick,
        jsonl,
        cli=cli,
        script=script,
        variant=_variant,
        measure=measure,
        ratio=ratio,
        target=_target,
        target_cls=Target,
    )
    scenarios.update(more)
    targets += more_targets

    # 6c. The same batch file from a local S3 server (moto) against disk (issue 16).
    more, more_targets = run_remote(
        scratch,
        max(2, reps - 2),
        jsonl,
        cli=cli,
        child=CHILD,
        variant=_variant,
        measure=measure,
        ratio=ratio,
        target_cls=Target,
        small_lines=30 if quick else SMALL_TO_S3,
    )
    scenarios.update(more)
    targets += more_targets

    # 6b. Issue 15: every shape against the naive and the tuned script, output on tmpfs
    # and on the default file system, and pinned to one CPU; start-up on a tiny input.
    contests, contest_targets, placements = run_contests(
        scratch,
        min(reps, 5),
        quick,
        pngs,
        doc,
        jsonl,
        sse,
        variant=Variant,
        measure=measure,
        ratio=ratio,
        target=_target,
        limit=_limit,
        script=script,
        cli=cli,
    )
    scenarios.update(contests)
    targets += contest_targets

    # 7. A stream transcript with partial images, whole process.
    cli_sse = Variant(
        "imgcall extract --partials",
        [*cli, "extract", str(sse), "-o", "{out}", "-q", "--partials"],
        sse_mb,
    )
    measure([cli_sse], max(2, reps - 2), scratch, "SSE transcript")
    scenarios["SSE transcript, whole process"] = [cli_sse]

    # 7. The gallery page: thumbnails/s on a run's folder of 1024x1024 images, on one
    # thread and on every core, and the size of a page for a large batch.
    # Distinct images (thumbnails are shared by identical ones), noisy: the slowest
    # kind of PNG to decode, so this is a floor on thumbnails/s.
    gallery_dir = scratch / "gallery-run"
    distinct = [corpora.noisy_png(1000 + seed) for seed in range(4 if quick else 24)]
    gallery_doc = corpora.write_doc(scratch / "gallery.json", distinct)
    subprocess.run([*cli, "extract", str(gallery_doc), "-o", str(gallery_dir), "-q"], check=True)
    gallery_doc.unlink()
    thumbs_1 = Variant(
        "imgcall gallery, thumbnails, 1 thread",
        script(BASELINES / "imgcall_gallery.py", str(gallery_dir), "--workers", "1"),
        0.0,
        uses_out=False,
    )
    thumbs_n = Variant(
        "imgcall gallery, thumbnails, all cores",
        script(BASELINES / "imgcall_gallery.py", str(gallery_dir)),
        0.0,
        uses_out=False,
    )
    page_items = 2_000 if quick else 50_000
    small_dir = corpora.write_small_run(scratch / "gallery-page", page_items)
    page = Variant(
        f"imgcall gallery, page of {page_items:,} items",
        script(BASELINES / "imgcall_gallery.py", str(small_dir)),
        0.0,
        uses_out=False,
    )
    measure([thumbs_1, thumbs_n, page], max(2, reps - 4), scratch, "gallery")
    scenarios["gallery (work time; images/s = thumbnails/s)"] = [thumbs_1, thumbs_n, page]
    page_kb = page.median("page_bytes") / page_items / 1000
    targets += [
        Target(
            "gallery thumbnails/s, 1 thread (1024x1024 PNG)",
            round(thumbs_1.runs[0].images / thumbs_1.median("work"), 1)
            if thumbs_1.runs and thumbs_1.runs[0].images
            else float("nan"),
            "(measured)",
            None,
        ),
        Target(
            "gallery thumbnails/s, all cores",
            round(thumbs_n.runs[0].images / thumbs_n.median("work"), 1)
            if thumbs_n.runs and thumbs_n.runs[0].images
            else float("nan"),
            "(measured)",
            None,
        ),
        _target(
            f"gallery page, KB per item ({page_items:,} items)",
            page_kb,
            "<= ~1 KB",
            1.1,
            lower=True,
        ),
    ]
    shutil.rmtree(small_dir, ignore_errors=True)
    shutil.rmtree(gallery_dir, ignore_errors=True)

    if big:
        big_jsonl = corpora.write_jsonl(scratch / "big.jsonl", pngs, 330)
        big_mb = corpora.file_mb(big_jsonl)
        scan = Variant(
            "imgcall ls, 1 GB", [*cli, "ls", str(big_jsonl), "--json"], big_mb, uses_out=False
        )
        # Workers read image text back from pages the reader has already released: this
        # is where a page-release regression shows (bench/README.md, change 12).
        save = Variant(
            "imgcall extract -j 2, 1 GB",
            [*cli, "extract", str(big_jsonl), "-o", "{out}", "-q", "-j", "2"],
            big_mb,
        )
        measure([scan, save], 1, scratch, f"memory, {big_mb:.0f} MB JSON Lines")
        scenarios["1 GB JSON Lines"] = [scan, save]
        for name, variant in (("scan", scan), ("extract -j 2", save)):
            targets.append(
                _target(
                    f"{name}, 1 GB JSONL, peak RSS (MB)",
                    variant.median("rss_mb"),
                    "< 150 MB",
                    150.0,
                    lower=True,
                )
            )
        big_jsonl.unlink()

    if quick:  # small corpora, few repetitions: the figures mean nothing
        targets = [Target(t.name, t.value, t.goal, None) for t in targets]
    return {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "quick": quick,
        "judged": not quick,
        "outputs": placements,
        "load_average": list(os.getloadavg()),
        "reps": reps,
        "corpora_mb": {"doc": doc_mb, "jsonl": jsonl_mb, "sse": sse_mb},
        "scenarios": {
            name: [
                {
                    "variant": v.name,
                    "input_mb": v.input_mb,
                    "wall_s": v.median("wall"),
                    "work_s": v.median("work"),
                    "rss_mb": v.median("rss_mb"),
                    "images": v.runs[0].images if v.runs else None,
                    "failures": sum(1 for r in v.runs if r.returncode != 0),
                    "runs": [asdict(r) for r in v.runs],
                }
                for v in variants
            ]
            for name, variants in scenarios.items()
        },
        "targets": [asdict(t) for t in targets],
    }


def _variant(
    name: str,
    argv: list[str],
    input_mb: float,
    *,
    env: dict[str, str] | None = None,
    uses_out: bool = True,
) -> Variant:
    return Variant(name, argv, input_mb, uses_out=uses_out, env=env or {})


def _limit(name: str, value: float) -> Target:
    """A measured figure shown beside the targets (a floor, a bound), judged as none."""
    return Target(name, round(value, 3), "(measured limit)", None)


def _target(name: str, value: float, goal: str, bound: float, *, lower: bool = False) -> Target:
    met = value <= bound if lower else value >= bound
    return Target(name, round(value, 3), goal, bool(met))


def write_reports(report: dict[str, object], out: Path) -> None:
    """Write results.json, results.md and results.png into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = ["# imgcall benchmark results", ""]
    if report.get("quick"):
        lines += [QUICK_NOTE, ""]
    outputs = report.get("outputs")
    if isinstance(outputs, dict):
        lines += [f"- output on {key}: {words}" for key, words in outputs.items()]
        lines += [f"- load average at the end: {report.get('load_average')}", ""]
    scenarios = report["scenarios"]
    assert isinstance(scenarios, dict)
    for name, rows in scenarios.items():
        # Whole-process scenarios compare whole processes: MB/s and images/s from the
        # wall time of every row (a script's own work time leaves out its start-up).
        whole = "whole process" in name
        rates = "MB/s (wall) | images/s (wall)" if whole else "MB/s | images/s"
        lines += [
            f"## {name}",
            "",
            f"| variant | wall s | work s | {rates} | peak RSS MB |",
            "|---|---|---|---|---|---|",
        ]
        for row in rows:
            t = row["work_s"] if row["work_s"] == row["work_s"] and not whole else row["wall_s"]
            mbs = row["input_mb"] / t if row["input_mb"] and t else float("nan")
            ips = (row["images"] or 0) / t if t else float("nan")
            lines.append(
                f"| {row['variant']} | {row['wall_s']:.3f} | {_f(row['work_s'])} | {_f(mbs, 0)} | "
                f"{_f(ips, 1)} | {row['rss_mb']:.0f} |"
            )
        lines.append("")
    lines += ["## Targets", "", "| target | measured | goal | met |", "|---|---|---|---|"]
    targets = report["targets"]
    assert isinstance(targets, list)
    for t in targets:
        lines.append(f"| {t['name']} | {t['value']} | {t['goal']} | {_met(t['met'])} |")
    (out / "results.md").write_text("\n".join(lines) + "\n")
    plot(report, out / "results.png")
    print("\n".join(lines))
    print(f"\nwritten: {out}/results.json, results.md, results.png")


QUICK_NOTE = (
    "**--quick: small corpora and few repetitions. This run checks that the harness "
    "works; it judges no target (every target reads '-').**"
)


def _together(*commands: list[str]) -> str:
    """A shell line running ``commands`` at once, failing if any of them fails."""
    started = " ".join(f"{shlex.join(c)} & p{n}=$!;" for n, c in enumerate(commands))
    waited = " ".join(f"wait $p{n}; r{n}=$?;" for n in range(len(commands)))
    ok = " && ".join(f"[ $r{n} -eq 0 ]" for n in range(len(commands)))
    return f"{started} {waited} {ok}"


def _met(met: bool | None) -> str:
    return "-" if met is None else "yes" if met else "**no**"


def _f(value: float | None, digits: int = 3) -> str:
    if value is None or value != value:
        return "-"
    return f"{value:.{digits}f}"


if __name__ == "__main__":
    main()

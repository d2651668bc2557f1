"""The provider scenarios: Gemini against the same images as OpenAI, and the registry's cost.

- The library saves a Gemini response (each image beside a 1 MB ``thoughtSignature``)
  against the same images in a Responses document: the Gemini shape may cost at most
  1.2x, and at most about twice its size in memory.
- A Gemini batch JSON Lines file is read in bounded memory, like an OpenAI one.
- The known shapes did not slow down when the readers moved behind one registry with a
  search by content: the Responses document (library) and the Batch JSON Lines file
  (whole process) run with the code of the commit before that change and of the commit
  that made it, side by side, each from a copy on ``PYTHONPATH`` (later changes to the
  save path, which the other scenarios measure, stay out of this comparison).
"""

from __future__ import annotations

import compileall
import subprocess
import tarfile
from collections.abc import Callable
from io import BytesIO
from pathlib import Path
from typing import Any

from bench import corpora

BEFORE_REGISTRY = "7ebb3a9"
"""The last commit before ``imgcall/providers/`` (issue 12): envelopes.py and streams.py."""
WITH_REGISTRY = "f1ca10b"
"""The commit that moved the readers into ``imgcall/providers/`` and added discovery."""

HERE = Path(__file__).resolve().parent


def checkout(commit: str, scratch: Path) -> Path | None:
    """That commit's ``imgcall`` package, byte-compiled, in ``scratch``; ``None`` without git."""
    target = scratch / f"imgcall-{commit}"
    try:
        archive = subprocess.run(
            ["git", "archive", commit, "imgcall"],
            cwd=HERE.parent,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    compileall.compile_dir(target / "imgcall", quiet=1)
    return target


def run_providers(
    scratch: Path,
    reps: int,
    quick: bool,
    pngs: list[bytes],
    doc: Path,
    jsonl: Path,
    *,
    variant: Callable[..., Any],
    measure: Callable[..., None],
    ratio: Callable[..., float],
    target: Callable[..., Any],
    script: Callable[..., list[str]],
    cli: list[str],
    interp_rss: float,
) -> tuple[dict[str, list[Any]], list[Any]]:
    """Run the provider scenarios; returns ``(scenarios, targets)`` for the report."""
    baselines = HERE / "baselines"
    scenarios: dict[str, list[Any]] = {}
    targets: list[Any] = []
    gemini = corpora.write_gemini_doc(scratch / "gemini.json", pngs)
    gemini_mb = corpora.file_mb(gemini)
    lib_openai = variant(
        "library, Responses document",
        script(baselines / "imgcall_lib.py", str(doc), "{out}"),
        corpora.file_mb(doc),
    )
    lib_gemini = variant(
        "library, Gemini response",
        script(baselines / "imgcall_lib.py", str(gemini), "{out}"),
        gemini_mb,
    )
    measure([lib_openai, lib_gemini], reps, scratch, "Gemini response, library")
    scenarios["Gemini response vs Responses document, library (work time)"] = [
        lib_openai,
        lib_gemini,
    ]
    growth = lib_gemini.median("rss_mb") - interp_rss
    targets += [
        target(
            "Gemini vs Responses document, library",
            ratio(lib_gemini, lib_openai, "work"),
            "<= 1.2x",
            1.2,
            lower=True,
        ),
        target("Gemini response: RSS growth / size", growth / gemini_mb, "<= ~2x", 2.0, lower=True),
    ]

    batch = corpora.write_gemini_jsonl(scratch / "gemini.jsonl", pngs, 10 if quick else 60)
    cli_batch = variant(
        "imgcall extract, Gemini batch",
        [*cli, "extract", str(batch), "-o", "{out}", "-q"],
        corpora.file_mb(batch),
    )
    measure([cli_batch], max(2, reps - 4), scratch, "Gemini batch JSON Lines")
    scenarios["Gemini batch JSON Lines, whole process"] = [cli_batch]
    targets.append(
        target(
            "CLI peak RSS, Gemini batch (MB)",
            cli_batch.median("rss_mb"),
            "< 150 MB",
            150.0,
            lower=True,
        )
    )
    batch.unlink()

    before, after = checkout(BEFORE_REGISTRY, scratch), checkout(WITH_REGISTRY, scratch)
    if before is not None and after is not None:
        env = {"PYTHONPATH": str(before)}
        env_after = {"PYTHONPATH": str(after)}
        old_doc = variant(
            "library before the registry",
            script(baselines / "imgcall_lib.py", str(doc), "{out}"),
            corpora.file_mb(doc),
            env=env,
        )
        new_doc = variant(
            "library with the registry",
            script(baselines / "imgcall_lib.py", str(doc), "{out}"),
            corpora.file_mb(doc),
            env=env_after,
        )
        old_lines = variant(
            "extract before the registry",
            [*cli, "extract", str(jsonl), "-o", "{out}", "-q"],
            corpora.file_mb(jsonl),
            env=env,
        )
        new_lines = variant(
            "extract with the registry",
            [*cli, "extract", str(jsonl), "-o", "{out}", "-q"],
            corpora.file_mb(jsonl),
            env=env_after,
        )
        measure([old_doc, new_doc, old_lines, new_lines], reps, scratch, "before the registry")
        scenarios["known shapes before and after the registry"] = [
            old_doc,
            new_doc,
            old_lines,
            new_lines,
        ]
        targets += [
            target(
                "Responses document, with vs before the registry",
                ratio(new_doc, old_doc, "work"),
                "<= 1.05x",
                1.05,
                lower=True,
            ),
            target(
                "Batch JSON Lines, with vs before the registry",
                ratio(new_lines, old_lines),
                "<= 1.05x",
                1.05,
                lower=True,
            ),
        ]
    gemini.unlink()
    return scenarios, targets

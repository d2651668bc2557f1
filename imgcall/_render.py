"""The text the command line prints: problem lines, saved-file lines, the ``ls`` table.

Pure functions from `ItemRecord` to strings, so that `imgcall.cli` is left with options,
output streams and exit codes, and so that the wording can be tested without running a
command. Nothing here prints or imports click. Text that comes from the input (ids,
statuses, locations) goes through `printable`, so a hostile id cannot garble a terminal.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from .image import human_bytes

if TYPE_CHECKING:
    from .counts import RunCounts
    from .htmlpage import GalleryReport
    from .objectstore import ObjectPath
    from .records import ItemRecord

__all__ = [
    "cli_words",
    "extract_summary",
    "interrupted_line",
    "gallery_summary",
    "ls_summary",
    "nothing_found",
    "printable",
    "problem_line",
    "saved_lines",
    "table",
]

# The library's advice names its Python arguments; on the command line the same advice
# names the flag. Each key is the library's exact wording (tests/test_cli.py runs each case).
_CLI_WORDS = {
    "(raise Limits(max_pixels=...) to allow it)": "(raise --max-pixels to allow it)",
    "(raise Limits(max_bytes=...) to allow it)": "(raise --max-bytes to allow it)",
    "(raise Limits(max_frames=...) to decode them all)": "(raise --max-frames to decode them all)",
    "(raise Limits(max_total_pixels=...) to decode them all)": "(raise --max-total-pixels "
    "to decode them all)",
    "choose what to do with on_conflict 'rename', 'skip' or 'overwrite' "
    "(--on-conflict on the command line)": "choose what to do with --on-conflict rename, "
    "skip or overwrite",
    "(strict_status is set)": "(--strict-status is set)",
    "(ask for partials to get them: --partials, or partials=True)": "(ask for them with "
    "--partials)",
}


def printable(text: str) -> str:
    """``text`` with control characters escaped, so hostile ids cannot garble a terminal."""
    return text if text.isprintable() else repr(text)[1:-1]


def cli_words(text: str) -> str:
    """``text`` with the library's advice worded for the command line (flags, not arguments)."""
    for python, flag in _CLI_WORDS.items():
        if python in text:
            text = text.replace(python, flag)
    return text


def _who(record: ItemRecord) -> str:
    who = f"item {record.id!r}" if record.id is not None else "an item without an id"
    if record.custom_id is not None:
        who += f" (custom_id {record.custom_id!r})"
    return who


def problem_line(record: ItemRecord) -> str:
    """One stderr line naming the input or item and the reason."""
    error = record.error
    # Reasons can quote the input (a URL, a declared format): escape them like ids.
    reason = printable(cli_words(error.reason)) if error is not None else "unknown problem"
    where = printable(record.location or record.input or "")
    if record.id is None and record.custom_id is None:  # a whole input, a broken line, ...
        return f"error: {reason}" if not where or where in reason else f"error: {where}: {reason}"
    return f"error: {where}: {_who(record)}: {reason}"


def _shown(out_dir: Path | ObjectPath, name: str) -> str:
    """``str(out_dir / name)`` for a plain file name, without a second `Path` per image
    (pathlib's join took 4-5 us, a run of 20 KB images' every 40th; issue 15)."""
    if isinstance(out_dir, PurePath):
        folder = str(out_dir)
        return name if folder == "." else os.path.join(folder, name)
    return str(out_dir / name)


def saved_lines(
    record: ItemRecord, out_dir: Path | ObjectPath, *, as_json: bool, quiet: bool
) -> Iterator[tuple[str, bool]]:
    """What ``imgcall extract`` prints for one record, as ``(line, to_stderr)`` in order.

    The path of the file on standard output (or the JSON object with ``--json``); its
    problem, a skip, and each warning on standard error. ``quiet`` keeps only problems
    and JSON.
    """
    if record.error is not None:
        yield problem_line(record), True
    if as_json:
        yield record.to_json(), False
    elif (
        not quiet
        and record.path is not None
        and record.outcome in ("saved", "overwritten", "exists")
    ):
        yield printable(_shown(out_dir, record.path.name)), False
    if quiet:
        return
    where = printable(record.location or record.input or "")
    if record.outcome == "skipped" and record.path is not None:
        yield (
            (
                f"skipped: {where}: {_who(record)}: {record.path.name} already holds "
                "a different image (--on-conflict skip)"
            ),
            True,
        )
    if record.duplicate_of is not None:
        yield (
            f"note: {where}: {_who(record)}: duplicate of {printable(record.duplicate_of)} "
            "(the same image, saved once)",
            True,
        )
    for note in record.warnings:
        yield f"warning: {where}: {_who(record)}: {printable(cli_words(note))}", True


def extract_summary(
    counts: RunCounts, *, convert: str | None, manifest: Path | ObjectPath | None
) -> list[str]:
    """The closing lines of ``imgcall extract``: a note on re-encoded images, the totals."""
    lines = []
    if counts.provenance_lost:
        lost = counts.provenance_lost
        lines.append(
            f"warning: {lost} image{'s' if lost != 1 else ''} carried C2PA provenance, "
            f"lost by re-encoding to {convert} (without --convert the original bytes "
            "are kept, provenance intact)"
        )
    saved = f"{counts.saved + counts.overwritten} saved"
    if counts.overwritten:
        saved += f" ({counts.overwritten} overwritten)"
    if counts.duplicates:
        saved += f", {counts.duplicates} duplicate{'s' if counts.duplicates != 1 else ''}"
    problems = _problems(counts)
    where = f" (manifest: {manifest})" if manifest is not None else ""
    lines.append(
        f"imgcall: {saved}, {counts.existing} already present, {counts.skipped} skipped, "
        f"{problems}{where}"
    )
    return lines


def interrupted_line(counts: RunCounts) -> str:
    """What ``imgcall extract`` says when Ctrl-C stopped it (after the summary)."""
    done = counts.saved + counts.overwritten + counts.existing + counts.duplicates
    return (
        f"imgcall: interrupted after {done} image{'s' if done != 1 else ''}; every file "
        "written is complete (run it again to go on: files already there count as done)"
    )


def ls_summary(counts: RunCounts) -> str:
    """The closing line of ``imgcall ls``: images found and problems."""
    return f"imgcall: {counts.found} image{'s' if counts.found != 1 else ''}, {_problems(counts)}"


def _problems(counts: RunCounts) -> str:
    return f"{counts.problems} problem{'s' if counts.problems != 1 else ''}"


def nothing_found(inputs: Sequence[str]) -> str:
    """The line for a run that found no image, naming at most three inputs."""
    shown = [("<stdin>" if n == "-" else n) for n in inputs] or ["<stdin>"]
    names = ", ".join(shown) if len(shown) <= 3 else f"{', '.join(shown[:3])}, ..."
    return f"imgcall: no images found in {names}"


def table(records: Sequence[ItemRecord]) -> str:
    """The ``imgcall ls`` table: a header and one aligned row per item."""
    header = ("#", "ID", "STATUS", "FORMAT", "WxH", "SIZE", "LOCATION", "NOTE")
    rows = [header] + [_row(r) for r in records]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)] + [
            row[-1]
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def _row(record: ItemRecord) -> tuple[str, ...]:
    size = (
        f"{record.width}x{record.height}"
        if record.width is not None and record.height is not None
        else "-"
    )
    notes = []
    if record.partial_index is not None:
        notes.append(f"partial {record.partial_index}")
    if record.error is not None:
        notes.append(cli_words(record.error.reason))
    if record.c2pa:
        notes.append("C2PA")
    notes.extend(cli_words(note) for note in record.warnings)
    return (
        str(record.index) if record.index is not None else "-",
        printable(record.id) if record.id is not None else "-",
        printable(record.status) if record.status is not None else "-",
        record.format or "-",
        size,
        human_bytes(record.nbytes) if record.nbytes is not None else "-",
        printable(record.location or record.input or "-"),
        printable("; ".join(notes)),
    )


def gallery_summary(report: GalleryReport) -> str:
    """The line saying what ``index.html`` shows, and the thumbnails made for it."""
    images = f"{report.images:,} image{'s' if report.images != 1 else ''}"
    c2pa = f" ({report.c2pa:,} with C2PA)" if report.c2pa else ""
    return (
        f"imgcall: gallery {printable(str(report.path))}: {images}{c2pa}, "
        f"{report.failed:,} not saved; {report.thumbnails_made:,} thumbnails made, "
        f"{report.thumbnails_reused:,} reused"
    )

"""The ``imgcall`` command line: a thin adapter over the library.

Each command parses its options, calls one library function (`imgcall.saving.iter_save`
or `imgcall.saving.list_images`), renders the records it yields, and maps the outcome to
an exit code in one place (`exit_code_for`, `run_exit_code`):

====  =================================================================================
0     every image found was saved (or was already present)
1     some item could not be saved (the others still were)
2     usage error, or an input that cannot be read or parsed (a broken line inside an
      input that is otherwise read is an item problem: 1)
3     no image found in the input (nothing image-like at all; items that were found but
      all failed give 1)
====  =================================================================================

Library modules are imported inside the commands, so ``imgcall --version`` and
``--help`` start fast (no pydantic, no Pillow).
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import click

from . import __version__

if TYPE_CHECKING:
    from .decoding import Limits
    from .saving import ItemRecord

__all__ = [
    "EXIT_NO_IMAGES",
    "EXIT_OK",
    "EXIT_PROBLEMS",
    "EXIT_USAGE",
    "cli",
    "exit_code_for",
    "main",
    "run_exit_code",
]

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
EXIT_NO_IMAGES = 3

# A progress bar is drawn only for inputs larger than this, and only on a terminal.
PROGRESS_MIN_BYTES = 50_000_000

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def exit_code_for(error: BaseException, *, whole_input: bool = True) -> int:
    """The exit code for one error: 2 for an input that cannot be read, else 1.

    ``whole_input=False`` marks a problem inside an input that was otherwise read (a
    broken line of JSON Lines): the rest of the input was saved, so that is a 1.
    """
    from .errors import InvalidInputError

    if isinstance(error, InvalidInputError) and whole_input:
        return EXIT_USAGE
    return EXIT_PROBLEMS


@dataclass
class _Tally:
    """Counts for the summary line and the exit code, filled as records arrive."""

    records: int = 0
    items: int = 0
    saved: int = 0
    overwritten: int = 0
    existing: int = 0
    skipped: int = 0
    found: int = 0
    problems: int = 0
    converted: int = 0
    codes: list[int] = field(default_factory=list)

    def add(self, record: ItemRecord) -> None:
        self.records += 1
        if record.index is not None:
            self.items += 1
        if record.error is not None:
            self.problems += 1
            self.codes.append(exit_code_for(record.error, whole_input=record.index is None))
        if record.converted_from is not None:
            self.converted += 1
        outcome = record.outcome
        if outcome == "saved":
            self.saved += 1
        elif outcome == "overwritten":
            self.overwritten += 1
        elif outcome == "exists":
            self.existing += 1
        elif outcome == "skipped":
            self.skipped += 1
        elif outcome == "found":
            self.found += 1


def run_exit_code(codes: Sequence[int], items: int) -> int:
    """The exit code of a run from its problems' codes and the number of items found.

    The worst problem wins (an unreadable input over a failed item); with no problem, a
    run that found no item at all exits 3.
    """
    if codes:
        return max(codes)
    return EXIT_NO_IMAGES if items == 0 else EXIT_OK


def _echo_err(message: str) -> None:
    click.echo(message, err=True)


def _printable(text: str) -> str:
    """``text`` with control characters escaped, so hostile ids cannot garble a terminal."""
    return text if text.isprintable() else repr(text)[1:-1]


def _who(record: ItemRecord) -> str:
    who = f"item {record.id!r}" if record.id is not None else "an item without an id"
    if record.custom_id is not None:
        who += f" (custom_id {record.custom_id!r})"
    return who


def problem_line(record: ItemRecord) -> str:
    """One stderr line naming the input or item and the reason."""
    error = record.error
    reason = error.reason if error is not None else "unknown problem"
    where = _printable(record.location or record.input or "")
    if record.id is None and record.custom_id is None:  # a whole input, a broken line, ...
        return f"error: {reason}" if not where or where in reason else f"error: {where}: {reason}"
    return f"error: {where}: {_who(record)}: {reason}"


def _inputs(values: Sequence[str]) -> list[object]:
    """The sources for the library: paths as given, ``-`` (or nothing) as standard input."""
    from .saving import Input

    names = list(values) or ["-"]
    if names.count("-") > 1:
        raise click.UsageError("standard input ('-') can be read only once")
    stdin = _stdin()
    if not values and stdin.isatty():
        raise click.UsageError(
            "no INPUT given and standard input is a terminal; pass a file, "
            "or pipe JSON in (e.g. cat response.json | imgcall extract -)"
        )
    return [Input(stdin, "<stdin>", "stdin") if name == "-" else name for name in names]


def _input_bytes(values: Sequence[str]) -> int:
    total = 0
    for name in values:
        if name != "-":
            with contextlib.suppress(OSError):
                total += os.path.getsize(name)
    return total


def _stdin() -> BinaryIO:
    # sys.stdin, not click.get_binary_stream (deprecated in click 8.5): CliRunner swaps
    # sys.stdin for a wrapper whose .buffer holds the test input.
    return sys.stdin.buffer


def _stderr_is_tty() -> bool:
    return sys.stderr.isatty()


def _check_template(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from .saving import check_template

    try:
        check_template(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc
    return value


def _limits(max_bytes: int | None, max_pixels: int | None) -> Limits:
    from .decoding import Limits

    given = {"max_bytes": max_bytes, "max_pixels": max_pixels}
    return Limits(**{k: v for k, v in given.items() if v is not None})


def _quiet_warnings(records: Iterable[ItemRecord]) -> Iterator[ItemRecord]:
    """Iterate with imgcall's Python warnings silenced: each record carries its own."""
    from .errors import ImgcallWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImgcallWarning)
        yield from records


@click.group(context_settings=_CONTEXT)
@click.version_option(__version__, "--version", prog_name="imgcall")
def cli() -> None:
    """Turn the base64 images that generation APIs return into real image files.

    Reads OpenAI / OpenRouter payloads (a response, a list of items, ...) from files or
    standard input, and saves or lists the images found in them.

    \b
    Examples:
      imgcall extract response.json -o out/
      imgcall ls response.json
    """


@cli.command(context_settings=_CONTEXT)
@click.argument("inputs", nargs=-1, metavar="[INPUT]...")
@click.option(
    "-o",
    "--out",
    "out_dir",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False, dir_okay=True, path_type=Path),
    help="Folder to save the images in (created when needed).",
)
@click.option(
    "-n",
    "--name",
    default="{id}",
    show_default=True,
    callback=_check_template,
    metavar="TEMPLATE",
    help="File-name template from the fields {id} {index} {custom_id} {response_id} "
    "{status} {sha8} {stem}; the extension always comes from the real format.",
)
@click.option(
    "--on-conflict",
    type=click.Choice(["error", "skip", "rename", "overwrite"]),
    default="error",
    show_default=True,
    help="What to do when a file with different bytes has the name (identical bytes "
    "always count as done).",
)
@click.option(
    "--convert",
    type=click.Choice(["png", "jpeg", "webp"]),
    help="Re-encode to this format (provenance metadata such as C2PA is lost).",
)
@click.option("--partials", is_flag=True, help="Also save streamed partial images.")
@click.option(
    "--strict-status",
    is_flag=True,
    help="Refuse images whose status is not 'completed' instead of saving them with a warning.",
)
@click.option(
    "--check",
    type=click.Choice(["none", "fast", "full"]),
    default="fast",
    show_default=True,
    help="Integrity check: none, fast (headers, CRCs, end markers) or full (every pixel).",
)
@click.option(
    "--max-pixels",
    type=click.IntRange(min=1),
    metavar="N",
    show_default="64000000",
    help="Largest image accepted, in pixels (width x height).",
)
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1),
    metavar="N",
    show_default="67108864",
    help="Largest image file accepted, in bytes.",
)
@click.option("--no-manifest", is_flag=True, help="Do not write imgcall-manifest.jsonl.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object per item (manifest fields)."
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    metavar="N",
    help="Decode on N threads (0: one per CPU).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def extract(
    inputs: tuple[str, ...],
    out_dir: Path,
    name: str,
    on_conflict: str,
    convert: str | None,
    partials: bool,
    strict_status: bool,
    check: str,
    max_pixels: int | None,
    max_bytes: int | None,
    no_manifest: bool,
    as_json: bool,
    jobs: int,
    quiet: bool,
) -> None:
    """Save the images found in INPUT files (or standard input) into a folder.

    Prints the path of each saved (or already present) file, reports every problem on
    standard error, and ends with a one-line summary. The original bytes are written
    unchanged, with the extension of their real format. Identical files already there
    count as done, so running it again is safe.

    \b
    Examples:
      imgcall extract response.json -o out/
      imgcall extract batch_output.jsonl -o out/ -n '{custom_id}' -j 4
      cat response.json | imgcall extract - -o out/ --json
      imgcall extract *.json -o out/ --on-conflict rename --convert png

    \b
    Exit codes: 0 all saved, 1 some item could not be saved,
                2 usage error or unreadable input, 3 no image found.
    """
    from .errors import ImgcallError
    from .saving import MANIFEST_NAME, iter_save

    sources = _inputs(inputs)
    workers = jobs or os.cpu_count() or 1
    tally = _Tally()
    records = iter_save(
        sources,
        out_dir,
        name=name,
        on_conflict=on_conflict,  # type: ignore[arg-type]
        convert=convert,
        partials=partials,
        manifest=not no_manifest,
        limits=_limits(max_bytes, max_pixels),
        check=check,  # type: ignore[arg-type]
        strict_status=strict_status,
        workers=workers,
    )
    total = _input_bytes(inputs)
    show_bar = not quiet and total > PROGRESS_MIN_BYTES and _stderr_is_tty()
    bar: Any = _NoBar()
    if show_bar:
        bar = click.progressbar(length=total, label="imgcall", file=sys.stderr)
    try:
        with bar:
            for record in _quiet_warnings(records):
                tally.add(record)
                _render_saved(record, out_dir, as_json=as_json, quiet=quiet)
                # Base64 is about 4/3 of the image: a close estimate of input consumed.
                bar.update((record.nbytes or 0) * 4 // 3)
    except ImgcallError as exc:  # defensive: problems normally arrive as records
        _echo_err(f"error: {exc}")
        raise SystemExit(exit_code_for(exc)) from exc
    finally:
        records.close()
    code = run_exit_code(tally.codes, tally.items)
    if code == EXIT_NO_IMAGES:
        _echo_err(f"imgcall: no images found in {_names(inputs)}")
    elif not quiet:
        if tally.converted:
            _echo_err(
                f"note: {tally.converted} image{'s' if tally.converted != 1 else ''} "
                f"re-encoded to {convert}; provenance metadata (C2PA) of the originals "
                "is not kept"
            )
        written = not no_manifest and tally.records
        manifest = f" (manifest: {out_dir / MANIFEST_NAME})" if written else ""
        _echo_err(f"imgcall: {_summary(tally)}{manifest}")
    raise SystemExit(code)


class _NoBar:
    """Stands in for a progress bar when none is drawn."""

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        """Do nothing."""


def _render_saved(record: ItemRecord, out_dir: Path, *, as_json: bool, quiet: bool) -> None:
    if record.error is not None:
        _echo_err(problem_line(record))
    if as_json:
        click.echo(record.to_json())
    elif (
        not quiet
        and record.path is not None
        and record.outcome in ("saved", "overwritten", "exists")
    ):
        click.echo(_printable(str(out_dir / record.path.name)))
    if quiet:
        return
    where = _printable(record.location or record.input or "")
    if record.outcome == "skipped" and record.path is not None:
        _echo_err(
            f"skipped: {where}: {_who(record)}: {record.path.name} already holds "
            "a different image (--on-conflict skip)"
        )
    for note in record.warnings:
        _echo_err(f"warning: {where}: {_who(record)}: {note}")


def _summary(tally: _Tally) -> str:
    saved = f"{tally.saved + tally.overwritten} saved"
    if tally.overwritten:
        saved += f" ({tally.overwritten} overwritten)"
    problems = f"{tally.problems} problem{'s' if tally.problems != 1 else ''}"
    return f"{saved}, {tally.existing} already present, {tally.skipped} skipped, {problems}"


def _names(inputs: Sequence[str]) -> str:
    shown = [("<stdin>" if n == "-" else n) for n in inputs] or ["<stdin>"]
    return ", ".join(shown) if len(shown) <= 3 else f"{', '.join(shown[:3])}, ..."


@cli.command("ls", context_settings=_CONTEXT)
@click.argument("inputs", nargs=-1, metavar="[INPUT]...")
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object per item (manifest fields)."
)
def ls_command(inputs: tuple[str, ...], as_json: bool) -> None:
    """List the images found in INPUT files (or standard input) without writing anything.

    Shows a table with each item's index, id, status, format, width x height (from the
    image header), size, location and a note (warnings, or why it cannot be saved).

    \b
    Examples:
      imgcall ls response.json
      imgcall ls batch_output.jsonl --json
      cat response.json | imgcall ls

    \b
    Exit codes: as for extract (0 all readable, 1 some item is not, 2 unreadable
    input, 3 no image found).
    """
    from .saving import list_images

    tally = _Tally()
    rows: list[ItemRecord] = []
    for record in _quiet_warnings(list_images(_inputs(inputs))):
        tally.add(record)
        if as_json:
            click.echo(record.to_json())
        elif record.index is None:  # a whole input: not a row of the table
            _echo_err(problem_line(record))
        else:
            rows.append(record)
    if rows:
        click.echo(_table(rows))
    code = run_exit_code(tally.codes, tally.items)
    if code == EXIT_NO_IMAGES:
        _echo_err(f"imgcall: no images found in {_names(inputs)}")
    else:
        problems = f"{tally.problems} problem{'s' if tally.problems != 1 else ''}"
        _echo_err(f"imgcall: {tally.found} image{'s' if tally.found != 1 else ''}, {problems}")
    raise SystemExit(code)


def _table(records: Sequence[ItemRecord]) -> str:
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
        notes.append(record.error.reason)
    notes.extend(record.warnings)
    return (
        str(record.index) if record.index is not None else "-",
        _printable(record.id) if record.id is not None else "-",
        _printable(record.status) if record.status is not None else "-",
        record.format or "-",
        size,
        _human_bytes(record.nbytes) if record.nbytes is not None else "-",
        _printable(record.location or record.input or "-"),
        _printable("; ".join(notes)),
    )


def _human_bytes(n: int) -> str:
    value, unit = float(n), "B"
    for bigger in ("kB", "MB", "GB", "TB"):
        if value < 1000:
            break
        value, unit = value / 1000, bigger
    return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"


def main() -> None:
    """Entry point for the console script and ``python -m imgcall``."""
    cli(prog_name="imgcall")

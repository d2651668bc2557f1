"""The ``imgcall`` command line: a thin adapter over the library.

Each command parses its options, calls one library function (`imgcall.saving.iter_save`
or `imgcall.saving.list_images`), prints the records it yields as `imgcall._render`
words them, and maps the outcome to an exit code in one place (`exit_code_for`,
`run_exit_code`):

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
import json
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import click

from . import __version__

if TYPE_CHECKING:
    from .decoding import Limits
    from .records import ItemRecord

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


class _Tally:
    """Counts for the summary lines, and each problem's exit code, as records arrive."""

    def __init__(self) -> None:
        from .records import RunCounts

        self.counts = RunCounts()
        self.codes: list[int] = []

    def add(self, record: ItemRecord) -> None:
        self.counts.add(record)
        if record.error is not None:
            self.codes.append(exit_code_for(record.error, whole_input=record.index is None))


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


def _inputs(values: Sequence[str]) -> list[object]:
    """The sources for the library: paths as given, ``-`` (or nothing) as standard input."""
    from .pipeline import Input

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
    from .naming import check_template

    try:
        check_template(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc
    return value


def _limits(max_bytes: int | None, max_pixels: int | None) -> Limits:
    from .decoding import Limits

    given = {"max_bytes": max_bytes, "max_pixels": max_pixels}
    return Limits(**{k: v for k, v in given.items() if v is not None})


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
    click.get_current_context().with_resource(_notes())


@contextlib.contextmanager
def _notes() -> Iterator[None]:
    """Show the library's `ImgcallWarning`s (a file of a folder skipped, ...) as ``note:``
    lines on standard error, not as Python warnings with a source line."""
    from .errors import ImgcallWarning

    with warnings.catch_warnings():
        warnings.simplefilter("always", ImgcallWarning)
        shown = warnings.showwarning

        def show(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
            if not issubclass(category, ImgcallWarning):
                shown(message, category, *args, **kwargs)
            else:
                ctx = click.get_current_context(silent=True)
                if not (ctx is not None and ctx.params.get("quiet")):
                    _echo_err(f"note: {message}")

        warnings.showwarning = show
        yield


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
@click.option(
    "--storage-option",
    "storage_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="An fsspec option for URL inputs (s3://...), e.g. anon=true; repeatable. "
    "VALUE is read as JSON when it is JSON.",
)
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
    storage_options: tuple[str, ...],
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
      imgcall extract batch/ 's3://bucket/out/*.jsonl.gz' -o out/

    INPUT may be a folder (every file in it), a gzip, bzip2, xz or zstd file, or a URL
    that fsspec reads (pip install 'imgcall[remote]' and s3fs, gcsfs, ...); never http(s).

    \b
    Exit codes: 0 all saved, 1 some item could not be saved,
                2 usage error or unreadable input, 3 no image found.
    """
    from . import _render
    from .errors import ImgcallError
    from .records import MANIFEST_NAME
    from .saving import iter_save

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
        storage_options=_storage_options(storage_options),
    )
    total = _input_bytes(inputs)
    show_bar = not quiet and total > PROGRESS_MIN_BYTES and _stderr_is_tty()
    bar: Any = _NoBar()
    if show_bar:
        bar = click.progressbar(length=total, label="imgcall", file=sys.stderr)
    try:
        with bar:
            for record in records:
                tally.add(record)
                for line, to_stderr in _render.saved_lines(
                    record, out_dir, as_json=as_json, quiet=quiet
                ):
                    click.echo(line, err=to_stderr)
                # Base64 is about 4/3 of the image: a close estimate of input consumed.
                bar.update((record.nbytes or 0) * 4 // 3)
    except ImgcallError as exc:  # defensive: problems normally arrive as records
        _echo_err(f"error: {exc}")
        raise SystemExit(exit_code_for(exc)) from exc
    finally:
        records.close()
    code = run_exit_code(tally.codes, tally.counts.items)
    if code == EXIT_NO_IMAGES:
        _echo_err(_render.nothing_found(inputs))
    elif not quiet:
        written = not no_manifest and tally.counts.records and not tally.counts.manifest_failed
        manifest = out_dir / MANIFEST_NAME if written else None
        for line in _render.extract_summary(tally.counts, convert=convert, manifest=manifest):
            _echo_err(line)
    raise SystemExit(code)


class _NoBar:
    """Stands in for a progress bar when none is drawn."""

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def update(self, n: int) -> None:
        """Do nothing."""


@cli.command("ls", context_settings=_CONTEXT)
@click.argument("inputs", nargs=-1, metavar="[INPUT]...")
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object per item (manifest fields)."
)
@click.option(
    "--storage-option",
    "storage_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="An fsspec option for URL inputs (s3://...), e.g. anon=true; repeatable.",
)
def ls_command(inputs: tuple[str, ...], as_json: bool, storage_options: tuple[str, ...]) -> None:
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
    from . import _render
    from .saving import list_images

    tally = _Tally()
    rows: list[ItemRecord] = []
    for record in list_images(_inputs(inputs), storage_options=_storage_options(storage_options)):
        tally.add(record)
        if as_json:
            click.echo(record.to_json())
        elif record.index is None:  # a whole input: not a row of the table
            _echo_err(_render.problem_line(record))
        else:
            rows.append(record)
    if rows:
        click.echo(_render.table(rows))
    code = run_exit_code(tally.codes, tally.counts.items)
    if code == EXIT_NO_IMAGES:
        _echo_err(_render.nothing_found(inputs))
    else:
        _echo_err(_render.ls_summary(tally.counts))
    raise SystemExit(code)


def _storage_options(values: Sequence[str]) -> dict[str, Any] | None:
    """``--storage-option KEY=VALUE`` values as fsspec options (JSON values as JSON)."""
    options: dict[str, Any] = {}
    for value in values:
        key, sep, text = value.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{value!r} is not KEY=VALUE", param_hint="'--storage-option'")
        try:
            options[key] = json.loads(text)
        except ValueError:
            options[key] = text
    return options or None


def main() -> None:
    """Entry point for the console script and ``python -m imgcall``."""
    cli(prog_name="imgcall")

"""The ``imgcall`` command line: a thin adapter over the library.

Each command parses its options, calls one library function (`imgcall.saving.iter_save`
or `imgcall.saving.list_images`), prints the records it yields as `imgcall._render`
words them, and maps the outcome to an exit code in one place (`imgcall._exitcodes`:
`exit_code_for`, `run_exit_code`, re-exported here):

====  =================================================================================
0     every image found was saved (or was already present)
1     some item could not be saved (the others still were)
2     usage error, or an input that cannot be read or parsed (a broken line inside an
      input that is otherwise read is an item problem: 1), or an output folder that
      another run is still writing into (`OutputLockedError`, found before any work)
3     no image found in the input (nothing image-like at all; items that were found but
      all failed give 1)
130   interrupted (Ctrl-C): the file being written is finished, its manifest line
      written, the summary printed
141   standard output was closed (``imgcall extract ... | head``): the run stops quietly,
      as a program killed by SIGPIPE does
====  =================================================================================

Library modules are imported inside the commands, so ``imgcall --version`` and
``--help`` start fast (no pydantic, no Pillow).
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import click

from . import __version__
from ._cli_scale import (
    out_folder,
    parse_storage_options,
    scale_options,
    storage_option,
    workers_for,
)
from ._exitcodes import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERRUPTED,
    EXIT_NO_IMAGES,
    EXIT_OK,
    EXIT_PROBLEMS,
    EXIT_USAGE,
    Tally,
    broken_pipe,
    exit_code_for,
    run_exit_code,
)

if TYPE_CHECKING:
    from ._progress import CountingReader, Progress
    from .decoding import Limits
    from .objectstore import ObjectPath
    from .records import ItemRecord

__all__ = [
    "EXIT_BROKEN_PIPE",
    "EXIT_INTERRUPTED",
    "EXIT_NO_IMAGES",
    "EXIT_OK",
    "EXIT_PROBLEMS",
    "EXIT_USAGE",
    "cli",
    "exit_code_for",
    "main",
    "run_exit_code",
]

# The defaults of imgcall.Limits, spelled out so that --help does not import the decoder
# (tests/test_cli.py checks that they agree).
DEFAULT_MAX_PIXELS = 64_000_000
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_MAX_TOTAL_PIXELS = 64_000_000
DEFAULT_MAX_FRAMES = 5_000

_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _echo_err(message: str) -> None:
    click.echo(message, err=True)


def _inputs(values: Sequence[str], counter: CountingReader | None = None) -> list[object]:
    """The sources for the library: paths as given, ``-`` (or nothing) as standard input.

    ``counter`` wraps standard input to count the bytes read (for the progress bar).
    """
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
    source = counter if counter is not None else stdin
    return [Input(source, "<stdin>", "stdin") if name == "-" else name for name in names]


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


def _limits(
    max_bytes: int | None,
    max_pixels: int | None,
    max_total_pixels: int | None = None,
    max_frames: int | None = None,
) -> Limits:
    from .decoding import Limits

    given = {
        "max_bytes": max_bytes,
        "max_pixels": max_pixels,
        "max_total_pixels": max_total_pixels,
        "max_frames": max_frames,
    }
    return Limits(**{k: v for k, v in given.items() if v is not None})


@click.group(context_settings=_CONTEXT)
@click.version_option(__version__, "--version", prog_name="imgcall")
def cli() -> None:
    """Turn the base64 images that generation APIs return into real image files.

    Reads what OpenAI, OpenRouter, Gemini, Bedrock, Stability and others send back (a
    response, a stream transcript, a batch output file, ...) from files, folders, object
    storage or standard input, and saves or lists the images found in them.

    \b
    Examples:
      imgcall extract response.json -o out/
      imgcall ls response.json
    """
    ctx = click.get_current_context()
    ctx.with_resource(_notes())
    if ctx.invoked_subcommand not in ("extract", "ls"):  # those release at their first record
        from ._entry import release

        release()


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
    metavar="DIR",
    help="Folder to save the images in (created when needed), or a URL in object "
    "storage (s3://bucket/images/; pip install 'imgcall[remote]' and s3fs, gcsfs, ...).",
)
@click.option(
    "-n",
    "--name",
    default="{id}",
    show_default=True,
    callback=_check_template,
    metavar="TEMPLATE",
    help="File-name template from the fields {id} {index} {custom_id} {response_id} "
    "{status} {sha8} {stem}; the extension always comes from the real format. {index} "
    "is the item's 0-based position in the run, problems included (as in the "
    "manifest), so a name never changes when another item fails.",
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
    default=DEFAULT_MAX_PIXELS,
    show_default=True,
    help="Largest image accepted, in pixels (width x height).",
)
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1),
    metavar="N",
    default=DEFAULT_MAX_BYTES,
    show_default=True,
    help="Largest image file accepted, in bytes.",
)
@click.option(
    "--max-total-pixels",
    type=click.IntRange(min=1),
    metavar="N",
    default=DEFAULT_MAX_TOTAL_PIXELS,
    show_default=True,
    help="With --check full: most pixels decoded for an animation (frames x canvas).",
)
@click.option(
    "--max-frames",
    type=click.IntRange(min=1),
    metavar="N",
    default=DEFAULT_MAX_FRAMES,
    show_default=True,
    help="With --check full: most frames decoded for an animation.",
)
@click.option("--no-manifest", is_flag=True, help="Do not write imgcall-manifest.jsonl.")
@click.option(
    "--no-discover",
    is_flag=True,
    help="Only read known shapes: ignore images that only the search by content finds.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object per item (manifest fields)."
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=0),
    default=None,
    metavar="N",
    help="Decode on N threads, or N workers with --engine (0: one per CPU)  "
    "[default: 1 thread; every CPU for processes and dask]",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.option(
    "--sidecar", is_flag=True, help="Write NAME.json beside each image with its manifest record."
)
@click.option(
    "--html",
    "html_page",
    is_flag=True,
    help="Write index.html, a gallery of the folder, at the end (see 'imgcall gallery').",
)
@click.option(
    "--embed-metadata",
    is_flag=True,
    help="Write prompt and ids into each file (PNG iTXt, XMP); never into C2PA-signed files.",
)
@scale_options
def extract(
    inputs: tuple[str, ...],
    out_dir: str,
    name: str,
    on_conflict: str,
    convert: str | None,
    partials: bool,
    strict_status: bool,
    check: str,
    max_pixels: int | None,
    max_bytes: int | None,
    max_total_pixels: int | None,
    max_frames: int | None,
    no_manifest: bool,
    no_discover: bool,
    as_json: bool,
    jobs: int | None,
    quiet: bool,
    sidecar: bool,
    html_page: bool,
    embed_metadata: bool,
    engine: str,
    dask_scheduler: str | None,
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
      imgcall extract batch_output.jsonl -o out/ --html --sidecar
      imgcall extract batch/ 's3://bucket/out/*.jsonl.gz' -o out/
      imgcall extract big_batch.jsonl -o s3://bucket/images/ --engine processes

    INPUT may be a folder (every file in it), a gzip, bzip2, xz or zstd file, or a URL
    that fsspec reads (pip install 'imgcall[remote]' and s3fs, gcsfs, ...); never http(s).

    \b
    Exit codes: 0 all saved, 1 some item could not be saved,
                2 usage error, unreadable input or unusable output folder,
                3 no image found, 130 interrupted (Ctrl-C; the file being
                written is finished first), 141 standard output closed.
    """
    from . import _render
    from ._entry import release
    from ._interrupt import finish_writes_on_ctrl_c, take_pending
    from .errors import ImgcallError, OutputError
    from .manifest import MANIFEST_NAME
    from .saving import iter_save

    if html_page and no_manifest:
        raise click.UsageError("--html builds the page from the manifest: drop --no-manifest")
    where = out_folder(out_dir)
    store = parse_storage_options(storage_options)
    bar: Progress | None = None
    counter: CountingReader | None = None
    if not quiet and _stderr_is_tty():
        from ._progress import for_inputs

        bar, counter = for_inputs(inputs, _stdin(), sys.stderr)
    sources = _inputs(inputs, counter)
    workers = workers_for(jobs, engine, os.cpu_count())
    tally = Tally()
    try:
        records = iter_save(
            sources,
            where,
            name=name,
            on_conflict=on_conflict,  # type: ignore[arg-type]
            convert=convert,
            partials=partials,
            manifest=not no_manifest,
            limits=_limits(max_bytes, max_pixels, max_total_pixels, max_frames),
            check=check,  # type: ignore[arg-type]
            strict_status=strict_status,
            workers=workers,
            discover=not no_discover,
            sidecar=sidecar,
            embed_metadata=embed_metadata,
            engine=engine,  # type: ignore[arg-type]
            scheduler=dask_scheduler,
            storage_options=store,
        )
    except OutputError as exc:  # the folder cannot be made: found before any work
        _echo_err(f"error: {exc}")
        raise SystemExit(EXIT_USAGE) from exc
    interrupted = complete = False
    try:
        with finish_writes_on_ctrl_c():
            try:
                for record in records:
                    if not tally.counts.records:
                        release()  # the run's modules are loaded (imgcall._entry)
                    tally.add(record)
                    lines = list(_render.saved_lines(record, where, as_json=as_json, quiet=quiet))
                    if bar is not None and lines:
                        bar.clear()  # never print into the bar's line
                    for line, to_stderr in lines:
                        click.echo(line, err=to_stderr)
                    if bar is not None:
                        image = record.index is not None and record.error is None
                        bar.update(record.input, record.nbytes, image=image, printed=bool(lines))
                    if take_pending():  # Ctrl-C came while that file was written
                        raise KeyboardInterrupt
                complete = True
            except KeyboardInterrupt:
                interrupted = True
            except ImgcallError as exc:  # defensive: problems normally arrive as records
                _echo_err(f"error: {exc}")
                raise SystemExit(exit_code_for(exc)) from exc
            finally:
                records.close()
                if bar is not None:
                    bar.finish(complete=complete)
        code = run_exit_code(tally.codes, tally.counts.items)
        if interrupted:
            code = EXIT_INTERRUPTED
        if code == EXIT_NO_IMAGES:
            _echo_err(_render.nothing_found(inputs))
        elif not quiet:
            counts = tally.counts
            written = not no_manifest and counts.placed and not counts.manifest_failed
            manifest = where / MANIFEST_NAME if written else None
            for line in _render.extract_summary(counts, convert=convert, manifest=manifest):
                _echo_err(line)
        if interrupted:
            _echo_err(_render.interrupted_line(tally.counts))
        elif html_page and code != EXIT_NO_IMAGES and not tally.counts.manifest_failed:
            code = max(code, _gallery(where, workers, quiet, store))
    except BrokenPipeError:
        raise broken_pipe() from None
    raise SystemExit(code)


def _gallery(
    folder: Path | ObjectPath,
    workers: int | None,
    quiet: bool,
    storage_options: dict[str, Any] | None,
) -> int:
    """Build ``index.html`` in ``folder``, report it, and return the exit code."""
    from . import _render
    from .errors import ImgcallError
    from .htmlpage import write_gallery

    try:
        report = write_gallery(folder, workers=workers, storage_options=storage_options)
    except ImgcallError as exc:
        _echo_err(f"error: {exc}")
        return exit_code_for(exc)
    for note in report.warnings:
        _echo_err(f"warning: {_render.printable(note)}")
    if not quiet:
        _echo_err(_render.gallery_summary(report))
    return EXIT_OK


@cli.command("ls", context_settings=_CONTEXT)
@click.argument("inputs", nargs=-1, metavar="[INPUT]...")
@click.option(
    "--no-discover",
    is_flag=True,
    help="Only read known shapes: ignore images that only the search by content finds.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object per item (manifest fields)."
)
@click.option(
    "--partials", is_flag=True, help="Also list streamed partial images (note: partial K)."
)
@click.option(
    "--storage-option",
    "storage_options",
    multiple=True,
    metavar="KEY=VALUE",
    help="An fsspec option for URL inputs (s3://...), e.g. anon=true; repeatable.",
)
def ls_command(
    inputs: tuple[str, ...],
    no_discover: bool,
    as_json: bool,
    partials: bool,
    storage_options: tuple[str, ...],
) -> None:
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
    input, 3 no image found, 130 interrupted, 141 output closed).
    """
    from . import _render
    from ._entry import release
    from .saving import list_images

    tally = Tally()
    rows: list[ItemRecord] = []
    try:
        records = list_images(
            _inputs(inputs),
            partials=partials,
            discover=not no_discover,
            storage_options=parse_storage_options(storage_options),
        )
        try:
            for record in records:
                if not tally.counts.records:
                    release()  # the run's modules are loaded (imgcall._entry)
                tally.add(record)
                if as_json:
                    click.echo(record.to_json())
                elif record.index is None:  # a whole input: not a row of the table
                    _echo_err(_render.problem_line(record))
                else:
                    rows.append(record)
        except KeyboardInterrupt:
            _echo_err("imgcall: interrupted")  # nothing was written, so nothing to finish
            raise SystemExit(EXIT_INTERRUPTED) from None
        if rows:
            click.echo(_render.table(rows))
        code = run_exit_code(tally.codes, tally.counts.items)
        if code == EXIT_NO_IMAGES:
            _echo_err(_render.nothing_found(inputs))
        else:
            _echo_err(_render.ls_summary(tally.counts))
    except BrokenPipeError:
        raise broken_pipe() from None
    raise SystemExit(code)


@cli.command("gallery", context_settings=_CONTEXT)
@click.argument("folder", metavar="DIR")
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    metavar="N",
    help="Make thumbnails on N threads (0: one per CPU).",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@storage_option
def gallery_command(folder: str, jobs: int, quiet: bool, storage_options: tuple[str, ...]) -> None:
    """Write DIR/index.html, a gallery of an earlier run's output folder.

    Built from DIR's imgcall-manifest.jsonl and its images: a card per item with
    id, status, format, size, custom_id and prompt (failed items with the reason), a
    text filter, counts, and thumbnails in DIR/.imgcall-thumbs/ (made only for images
    larger than a thumbnail, reused on the next run). The page loads nothing from the
    network and stays fast with 50,000 images. Open it from disk or any static server.

    DIR may be a URL in object storage (s3://bucket/out/, pip install 'imgcall[remote]'):
    the page and thumbnails are then objects beside the images, with their content
    types, for a bucket served as a website or a prefix downloaded.

    \b
    Examples:
      imgcall gallery out/
      imgcall extract batch_output.jsonl -o out/ --html   # the same, after saving
      imgcall gallery s3://my-bucket/run-7/ --storage-option profile=work

    \b
    Exit codes: 0 written, 1 it cannot be written (or a file imgcall did not write
    is named index.html), 2 DIR has no manifest.
    """
    where = out_folder(folder)
    code = _gallery(where, jobs or None, quiet, parse_storage_options(storage_options))
    if code == EXIT_OK:
        from .htmlpage import GALLERY_NAME

        click.echo(str(where / GALLERY_NAME))
    raise SystemExit(code)


@cli.command("provenance", context_settings=_CONTEXT)
@click.argument(
    "paths", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="PATH..."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per image file.")
def provenance_command(paths: tuple[Path, ...], as_json: bool) -> None:
    """Show the C2PA provenance of image files (or of the images in folders).

    Whether a manifest is embedded is read from the file alone. With the optional
    extra (pip install 'imgcall[c2pa]') the manifest is read and validated offline:
    claim generator, issuer, signing time and validation state (Valid, Invalid,
    Trusted). A remote manifest is reported with its URL and never fetched.

    \b
    Examples:
      imgcall provenance out/ig_123.png
      imgcall provenance out/ --json

    \b
    Exit codes: 0 read, 1 some manifest is invalid or unreadable, 2 a path cannot be
    read.
    """
    from . import _provenance_cli

    raise SystemExit(_provenance_cli.run(paths, as_json, click.echo, _echo_err))


def main() -> None:
    """Run the command line (the console script and ``python -m imgcall`` run it through
    `imgcall._entry`, which holds the garbage collector during start-up)."""
    cli(prog_name="imgcall")

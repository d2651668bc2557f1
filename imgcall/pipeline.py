"""The producing half of a run: inputs in, decoded and hashed images out, in order.

`scan_units` scans each input of a run and numbers what it finds (``{index}`` counts images
and problems alike, across all inputs; an input that cannot be read is one unit without
an index). `prepared` pairs every unit with its `Ready` image (decoded, checked,
converted when asked, hashed) or its error, on ``workers`` threads since base64
decoding, hashing, CRCs and Pillow release the GIL, while always handing units back in
input order, so a run's result never depends on timing. `imgcall.saving` consumes the
pairs.

The scanner and decoder are imported on first use, so importing this module, and
`imgcall.saving`, stays light. None of them loads pydantic for well-formed items (see
`imgcall.items`), nor Pillow unless an image is converted or fully checked.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Generator, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Union

from . import _accel
from ._slotted import Frozen
from .errors import ImgcallError, InvalidInputError, Problem
from .items import Item
from .lazytext import LazyText
from .writing import converted, describe_os_error, svg_not_converted

if TYPE_CHECKING:
    from concurrent.futures import Future

    from .decoding import Check, Limits
    from .image import DecodedImage
    from .staging import StagedFile, Stager

__all__ = ["Input", "Options", "Prepared", "Ready", "Unit", "as_sources", "prepared", "scan_units"]


class Input(Frozen):
    """A source with the name to report it under, e.g. standard input as ``<stdin>``.

    ``stem`` is the ``{stem}`` name-template field; by default the name's file stem, or
    the name without its angle brackets (``<stdin>`` gives ``stdin``).
    """

    __slots__ = ("name", "source", "stem")
    __match_args__ = ("source", "name", "stem")

    def __init__(self, source: object, name: str, stem: str | None = None) -> None:
        self.source = source
        self.name = name
        self.stem = stem


class Options(NamedTuple):
    """How each item is decoded and converted (the `decode` options and ``convert``).

    ``stage_in`` is the output folder of a saving run: images that are saved as they
    are get decoded straight into temporary files there (`imgcall.staging`).
    """

    limits: Limits | None
    check: Check
    strict_status: bool
    convert: str | None
    stage_in: Path | None = None
    embed_metadata: bool = False
    """Write the prompt and ids into each file (`imgcall.embedding`) where it is allowed."""


class Unit(Frozen):
    """One thing found: a call to decode, a problem from the scan, or a broken input.

    ``index`` is the image's number in the run (``None`` for a problem that is not one
    image); ``input`` and ``stem`` name the input it came from.
    """

    # Not a NamedTuple, which cannot have an ``index`` (imgcall._slotted).
    __slots__ = ("found", "index", "input", "stem")
    __match_args__ = ("index", "input", "stem", "found")

    def __init__(
        self, index: int | None, input: str, stem: str, found: Item | Problem | ImgcallError
    ) -> None:
        self.index = index
        self.input = input
        self.stem = stem
        self.found = found

    def shifted(self, offset: int) -> Unit:
        """The unit numbered ``offset`` further on (a shard's units, in the whole run)."""
        if self.index is None or not offset:
            return self
        return Unit(self.index + offset, self.input, self.stem, self.found)

    def with_found(self, found: Item | Problem | ImgcallError) -> Unit:
        """The same unit holding ``found`` instead."""
        return Unit(self.index, self.input, self.stem, found)


class Ready(NamedTuple):
    """A decoded image with the bytes to write (converted if asked), their format and hash.

    ``digest`` is the SHA-256, or a future of it while it is computed on another thread:
    the hash is needed only after the file is written (manifest, name clashes) unless the
    name template uses ``{sha8}``, so hashing overlaps the write. ``staged`` is the
    temporary file holding `data` when it was decoded into the output folder; the
    consumer calls `release` once the image is written.
    """

    image: DecodedImage
    data: bytes
    format: str
    digest: Future[str] | str
    staged: StagedFile | None = None
    notes: tuple[str, ...] = ()
    """Warnings about the conversion (an SVG kept as it is), beside the image's own."""

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of `data` (waits for it if it is still being computed)."""
        return self.digest if isinstance(self.digest, str) else self.digest.result()

    def release(self) -> None:
        """Unmap and remove the staged file, if any (after its hash is done with it)."""
        if self.staged is not None:
            if not isinstance(self.digest, str):
                self.digest.exception()  # waits until the hash is done (or cancelled)
            self.staged.release()


Prepared = Union[Ready, Problem, ImgcallError]


def as_sources(source: object) -> list[object]:
    """The inputs of a run: a list of paths (or `Input`) is several, anything else one."""
    # A parsed JSON list of strings holds no images, so reading one as paths is safe.
    if (
        isinstance(source, (list, tuple))
        and source
        and all(
            isinstance(s, (os.PathLike, Input)) or (isinstance(s, str) and _is_path(s))
            for s in source
        )
    ):
        return list(source)
    return [source]


def scan_units(
    sources: list[object],
    partials: bool,
    discover: bool = True,
    storage_options: Mapping[str, Any] | None = None,
    exclude: Path | None = None,
) -> Iterator[Unit]:
    """Scan each source in turn and number what is found, across all sources.

    A folder or glob is expanded into its members, each an input of its own (its own name
    and ``{stem}``); ``exclude`` is a folder never read (the run's output folder).
    """
    from .scan import scan_items

    index = 0
    for raw, failure in _expanded(sources, storage_options, exclude):
        source, label, stem = _describe_source(raw)
        if failure is not None:
            yield Unit(None, label, stem, failure)
            continue
        remote = {"storage_options": storage_options} if storage_options else {}
        found_iter = scan_items(source, partials=partials, name=label, discover=discover, **remote)
        while True:
            try:
                found = next(found_iter)
            except StopIteration:
                break
            except ImgcallError as exc:
                yield Unit(None, label, stem, exc)
                break
            except OSError as exc:  # a stream (stdin) that fails while being read
                error = InvalidInputError(
                    f"cannot read {label}: {describe_os_error(exc)}", location=label
                )
                error.__cause__ = exc
                yield Unit(None, label, stem, error)
                break
            yield Unit(index, label, stem, found)
            index += 1


def _expanded(
    sources: list[object], storage_options: Mapping[str, Any] | None, exclude: Path | None
) -> Iterator[tuple[object, ImgcallError | None]]:
    """Each source, or each member of a folder or glob, with the error of listing it."""
    from .scan import expand_source

    for raw in sources:
        source = raw.source if isinstance(raw, Input) else raw
        try:
            members = expand_source(source, storage_options, exclude)
            if members is None:
                yield raw, None
                continue
            for member in members:
                yield Input(member.source, member.name), None
        except ImgcallError as exc:
            yield raw, exc


def _describe_source(raw: object) -> tuple[object, str, str]:
    """The source to scan, the name to report it under, and its ``{stem}``."""
    if isinstance(raw, Input):
        return raw.source, raw.name, raw.stem or _stem_of(raw.name)
    if isinstance(raw, os.PathLike) or (isinstance(raw, str) and _is_path(raw)):
        label = os.fspath(raw)
        return raw, str(label), Path(str(label)).stem or "input"
    if isinstance(raw, (str, bytes, bytearray, memoryview)):
        return raw, "<input>", "input"
    if hasattr(raw, "read"):
        label = str(getattr(raw, "name", "<stream>"))
        return raw, label, _stem_of(label)
    if isinstance(raw, (Mapping, list, tuple)):
        return raw, "<object>", "object"
    return raw, f"<{type(raw).__name__}>", type(raw).__name__


def _stem_of(name: str) -> str:
    if name.startswith("<") and name.endswith(">"):
        return name[1:-1] or "input"
    return Path(name).stem or "input"


def _is_path(text: str) -> bool:
    # The same rule the scanner uses (JSON, JSON Lines or SSE text is content, anything
    # else a path), imported here on use: framing is only needed for text sources.
    from .framing import looks_like_content

    return not looks_like_content(text)


def _sha256(data: bytes) -> str:
    return _accel.sha256(data).hexdigest()


HASH_BESIDE = 256 * 1024
"""Images at least this large are hashed on the helper thread, beside their write.

Handing a hash to another thread and waiting for it costs two context switches and,
on a busy machine, a wait for the thread to be scheduled: more than hashing a small
image (SHA-256 runs at ~1.7 GB/s here, 0.15 ms for this size). Small images are hashed
inline (issue 15: the hand-off was 15% of a run of 20 KB images)."""


class _Hasher:
    """The helper thread that hashes large images, started on first use.

    concurrent.futures (and the logging it imports) is imported only then: a run of
    small images never needs it, and its import was a tenth of a tiny run's start-up.
    """

    def __init__(self) -> None:
        self._pool: Any = None

    def submit(self, data: bytes) -> Future[str]:
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(1, "imgcall-hash")
        future: Future[str] = self._pool.submit(_sha256, data)
        return future

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()


def _prepare(call: Item, options: Options, hasher: _Hasher | None = None) -> Ready | ImgcallError:
    """Decode, check, convert and hash one item (on a worker thread when there are workers).

    With a ``hasher`` the hash runs on its thread (hashlib releases the GIL) while this
    one checks the image and writes the file: it starts as soon as the bytes exist.
    """
    from .decoding import decode_call

    early: list[Future[str]] = []
    stager = _stager(options, call.result)
    start_hash: Callable[[bytes], None] | None = None
    if hasher is not None and options.convert is None:

        def start_hash(data: bytes) -> None:
            if len(data) >= HASH_BESIDE:
                early.append(hasher.submit(data))

    try:
        image = decode_call(
            call,
            limits=options.limits,
            check=options.check,
            strict_status=options.strict_status,
            emit_warnings=False,
            on_bytes=start_hash,
            decoder=stager.decode if stager is not None else None,
        )
        data, fmt = converted(image, options.convert)
        svg_kept = options.convert is not None and image.format == "SVG"
        notes = (svg_not_converted(options.convert),) if svg_kept else ()
        if options.embed_metadata:
            image, data = _embedded(image, data, fmt)
    except ImgcallError as exc:
        _discard(early, stager)
        return exc.with_origin(id=call.id, location=call.location)
    except BaseException:
        _discard(early, stager)
        raise
    staged = stager.staged if stager is not None else None
    if early and data is image.data:
        return Ready(image, data, fmt, early[0], staged, notes)
    if hasher is not None and len(data) >= HASH_BESIDE:
        return Ready(image, data, fmt, hasher.submit(data), staged, notes)
    return Ready(image, data, fmt, _sha256(data), staged, notes)


def _embedded(image: DecodedImage, data: bytes, fmt: str) -> tuple[DecodedImage, bytes]:
    """The bytes with the prompt and ids embedded; or why not, as a warning on the image."""
    import dataclasses

    from .embedding import embed_metadata, metadata_fields
    from .records import context_text

    context = image.context
    fields = metadata_fields(
        id=image.id,
        custom_id=context_text(context, "custom_id"),
        response_id=context_text(context, "response_id"),
        prompt=context_text(context, "revised_prompt"),
    )
    out, refused = embed_metadata(data, fmt, fields)
    if refused is not None:
        image = dataclasses.replace(image, warnings=(*image.warnings, refused))
    return image, out


def _discard(early: list[Future[str]], stager: Stager | None) -> None:
    for future in early:
        future.cancel()
    if stager is not None:
        for future in early:
            if not future.cancelled():
                future.exception()  # a hash already running still reads the staged file
        stager.release()


def _stager(options: Options, result: str | None) -> Stager | None:
    """A stager for a saving run's large image kept as it is and not decoded by Pillow."""
    from .staging import worth_staging

    if (
        not worth_staging(result)
        or options.stage_in is None
        or options.convert is not None
        or options.check == "full"
        or options.embed_metadata  # the bytes written are not the ones decoded
    ):
        return None
    from .staging import Stager

    return Stager(options.stage_in)


def prepared(
    units: Iterator[Unit], options: Options, workers: int
) -> Generator[tuple[Unit, Prepared], None, None]:
    """Pair each unit with its decoded image or error, in order, on ``workers`` threads."""
    if workers == 1:
        # One helper thread hashes each image while this thread decodes the next one:
        # each unit is handed out once the next is prepared (the last at the end), so
        # an image's hash overlaps the next image's decoding and writing.
        # On one CPU (taskset, a container's quota of one core) the thread could only
        # take turns with this one: hash inline instead.
        hasher = _Hasher() if _cpus() > 1 else None
        try:
            ahead: tuple[Unit, Prepared] | None = None  # prepared, not yet handed out
            try:
                for unit in units:
                    found = unit.found
                    handed, ahead = ahead, (unit, _prepare_unit(found, options, hasher))
                    if handed is not None:
                        yield handed
                if ahead is not None:
                    handed, ahead = ahead, None
                    yield handed
            finally:
                if ahead is not None and isinstance(ahead[1], Ready):
                    ahead[1].release()  # the run stopped before it was handed out
        finally:
            if hasher is not None:
                hasher.shutdown()
        return
    # At most 2 x workers images in flight: enough to keep every worker busy while the
    # calling thread writes, never the whole input in memory.
    from concurrent.futures import Future, ThreadPoolExecutor

    window: deque[tuple[Unit, Future[Ready | ImgcallError] | Prepared]] = deque()
    # Pillow's work (converting, decoding every pixel) is worth a thread at any size.
    light = options.convert is None and options.check != "full"
    with ThreadPoolExecutor(workers, thread_name_prefix="imgcall") as pool:
        try:
            for unit in units:
                found = unit.found
                if isinstance(found, Item) and not (light and _small(found)):
                    window.append((unit, pool.submit(_prepare, found, options)))
                elif isinstance(found, Item):
                    # Handing a small image to a thread and waiting for it costs more
                    # than decoding it here (issue 15: -j 2 took twice as long as -j 1
                    # on 20 KB images); it still waits its turn in the window.
                    window.append((unit, _prepare(found, options)))
                else:
                    window.append((unit, found))
                while len(window) >= 2 * workers:
                    yield _settle(window.popleft())
            while window:
                yield _settle(window.popleft())
        finally:
            for _, pending in window:
                if isinstance(pending, Future) and not pending.cancel():
                    # Started or done: its staged file, if any, is released when it ends.
                    pending.add_done_callback(_release_result)


def _small(item: Item) -> bool:
    """True for an item whose decoded image is under `HASH_BESIDE` (or that has none)."""
    result = item.result
    if result is None:
        return True
    size = result.size if isinstance(result, LazyText) else len(result)
    return size < HASH_BESIDE // 3 * 4


def _cpus() -> int:
    """The CPUs this process may run on (its affinity where the system tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _release_result(future: Future[Ready | ImgcallError]) -> None:
    if not future.cancelled() and future.exception() is None:
        result = future.result()
        if isinstance(result, Ready):
            result.release()


def _prepare_unit(
    found: Item | Problem | ImgcallError, options: Options, hasher: _Hasher | None
) -> Prepared:
    return _prepare(found, options, hasher) if isinstance(found, Item) else found


def _settle(
    entry: tuple[Unit, Future[Ready | ImgcallError] | Prepared],
) -> tuple[Unit, Prepared]:
    from concurrent.futures import Future

    unit, pending = entry
    return unit, pending.result() if isinstance(pending, Future) else pending

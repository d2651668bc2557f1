"""What a run reports: one `ItemRecord` per item, and the `SaveReport`.

An `ItemRecord` is at once a manifest line, an ``imgcall extract --json`` / ``imgcall ls
--json`` object, and an entry of the `SaveReport` that `save_images` returns, so the
three always agree. `image_record` and `problem_record` build records from what
`imgcall.pipeline` produced (`imgcall.counts` totals them as they stream past), and
`imgcall.manifest` writes them to ``imgcall-manifest.jsonl``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from .errors import ImgcallError, InvalidInputError, OutputError, Problem
from .formats import has_c2pa
from .image import DecodedImage
from .manifest import MANIFEST_NAME

if TYPE_CHECKING:
    from .objectstore import ObjectPath
    from .pipeline import Ready, Unit

__all__ = [
    "ItemRecord",
    "Outcome",
    "SaveReport",
    "context_text",
    "image_record",
    "problem_record",
]

Outcome = Literal["saved", "exists", "skipped", "overwritten", "failed", "found"]

_Bytes = bytes  # ItemRecord.bytes (the manifest field) hides the builtin in its body

# Made once: json.dumps with options builds a new encoder for every call.
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode
_ENCODE_ASCII = json.JSONEncoder().encode


# repr=False: the class writes its own (short) repr, and a generated one is compiled
# at import even when it is not used.
@dataclass(frozen=True, repr=False)
class ItemRecord:
    """What happened to one item of a run: one manifest line, one ``--json`` object.

    ``outcome`` is ``"saved"`` (a new file), ``"exists"`` (the same bytes were already
    there, so it is done), ``"skipped"`` (another file holds the name, ``on_conflict``
    ``"skip"``), ``"overwritten"`` or ``"failed"`` (``error`` says why); `list_images`
    reports ``"found"`` instead of writing. An input that cannot be read at all is one
    ``"failed"`` record with ``id`` and ``index`` set to ``None``.
    """

    index: int | None
    """0-based position of the item in the run (all inputs, images and problems)."""
    input: str | None
    """The input's name: its path, ``<stdin>``, ``<object>``, ..."""
    id: str | None
    status: str | None
    outcome: Outcome
    path: Path | ObjectPath | None = None
    """The absolute path of the file holding the image (``None`` when nothing was saved);
    an `imgcall.ObjectPath` (its URL) for an output folder in object storage."""
    format: str | None = None
    width: int | None = None
    height: int | None = None
    nbytes: int | None = None
    """Size of the file in bytes (``bytes`` in the manifest)."""
    sha256: str | None = None
    location: str | None = None
    custom_id: str | None = None
    response_id: str | None = None
    revised_prompt: str | None = None
    partial: bool = False
    partial_index: int | None = None
    converted_from: str | None = None
    """The original format when the image was re-encoded (``convert``)."""
    note: str | None = None
    """Set when re-encoding dropped the C2PA provenance manifest the original carried."""
    warnings: tuple[str, ...] = ()
    """Things worth knowing that did not stop the item (e.g. a ``generating`` status)."""
    error: ImgcallError | None = field(default=None, compare=False)
    """The error for a ``"failed"`` item."""
    c2pa: bool | None = None
    """The file carries an embedded C2PA provenance manifest (``None`` when no image)."""

    duplicate_of: str | None = None
    """For an ``"exists"`` item whose identical image an earlier item of the same run
    saved under the same name: that file's name (one file holds both)."""

    @property
    def bytes(self) -> int | None:
        """Size of the file in bytes: the manifest's ``bytes`` (the same as `nbytes`)."""
        return self.nbytes

    def __repr__(self) -> str:
        # Short, one line: a report of thousands of records must stay printable.
        parts = [f"index={self.index!r}", f"id={_short(self.id)}", f"outcome={self.outcome!r}"]
        if self.path is not None:
            parts.append(f"path={_short(str(self.path), 120)}")
        if self.duplicate_of is not None:
            parts.append(f"duplicate_of={_short(self.duplicate_of)}")
        if self.error is not None:
            parts.append(f"error={_short(f'{type(self.error).__name__}: {self.error.reason}')}")
        return f"ItemRecord({', '.join(parts)})"

    @property
    def error_code(self) -> str | None:
        """The provider's own code for the failure (``moderation_blocked``, ...), if any."""
        return self.error.code if self.error is not None else None

    @property
    def failed(self) -> bool:
        """True for an item (or input) that could not be saved."""
        return self.outcome == "failed"

    @property
    def input_failed(self) -> bool:
        """True when a whole input could not be read or parsed (not just one line of it)."""
        return self.index is None and isinstance(self.error, InvalidInputError)

    @property
    def manifest_failed(self) -> bool:
        """True for the record saying the manifest could not be written (`imgcall.manifest`)."""
        return (
            self.input is None
            and self.index is None
            and isinstance(self.error, OutputError)
            and (self.location or "").endswith(MANIFEST_NAME)
        )

    def to_dict(self) -> dict[str, Any]:
        """The record as a JSON-ready dict with the manifest's field names."""
        return {
            "index": self.index,
            "input": self.input,
            "id": self.id,
            "status": self.status,
            "outcome": self.outcome,
            "path": str(self.path) if self.path is not None else None,
            "format": self.format,
            "width": self.width,
            "height": self.height,
            "bytes": self.nbytes,
            "sha256": self.sha256,
            "location": self.location,
            "custom_id": self.custom_id,
            "response_id": self.response_id,
            "revised_prompt": self.revised_prompt,
            "partial": self.partial,
            "partial_index": self.partial_index,
            "converted_from": self.converted_from,
            "note": self.note,
            "warnings": list(self.warnings),
            "error": self.error.reason if self.error is not None else None,
            "error_type": type(self.error).__name__ if self.error is not None else None,
            "error_code": self.error_code,
            "duplicate_of": self.duplicate_of,
            "c2pa": self.c2pa,
        }

    def to_json(self) -> str:
        """One line of JSON (the manifest line), always encodable as UTF-8."""
        return self.to_line().decode("utf-8")

    def to_line(self) -> _Bytes:
        """`to_json` as UTF-8 bytes, which is what the manifest writes."""
        data = self.to_dict()
        try:
            return _ENCODE(data).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate from a Python str: escape it
            return _ENCODE_ASCII(data).encode("ascii")


@dataclass(repr=False)  # its own repr, as ItemRecord
class SaveReport:
    """The result of `save_images`: every `ItemRecord` of the run, and counts.

    >>> report = imgcall.save_images("response.json", "out/")   # doctest: +SKIP
    >>> report.counts()
    {'saved': 2, 'overwritten': 0, 'exists': 0, 'skipped': 0, 'failed': 0}
    >>> [str(p) for p in report.paths]
    ['/home/me/out/ig_1.png', '/home/me/out/ig_2.jpg']
    """

    out_dir: Path | ObjectPath
    manifest: Path | ObjectPath | None
    """The manifest's path, or ``None`` when ``manifest=False``."""
    records: list[ItemRecord] = field(default_factory=list)

    def add(self, record: ItemRecord) -> None:
        """Append one record (used while a run is being consumed item by item)."""
        self.records.append(record)

    def _with(self, *outcomes: str) -> list[ItemRecord]:
        return [r for r in self.records if r.outcome in outcomes]

    @property
    def saved(self) -> list[ItemRecord]:
        """Items written by this run (new files and overwritten ones)."""
        return self._with("saved", "overwritten")

    @property
    def existing(self) -> list[ItemRecord]:
        """Items whose identical file was already there (done, nothing written)."""
        return self._with("exists")

    @property
    def skipped(self) -> list[ItemRecord]:
        """Items not written because another file holds the name (``on_conflict="skip"``)."""
        return self._with("skipped")

    @property
    def failed(self) -> list[ItemRecord]:
        """Items (and inputs) that could not be saved, each with its ``error``."""
        return self._with("failed")

    @property
    def paths(self) -> list[Path | ObjectPath]:
        """The files that now hold this run's images (saved, overwritten or present)."""
        return [r.path for r in self._with("saved", "overwritten", "exists") if r.path is not None]

    @property
    def ok(self) -> bool:
        """True when every item found was saved or already present."""
        return not self.failed

    def counts(self) -> dict[str, int]:
        """How many records have each outcome."""
        keys = ("saved", "overwritten", "exists", "skipped", "failed")
        return {key: len(self._with(key)) for key in keys}

    def __iter__(self) -> Iterator[ItemRecord]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    def __repr__(self) -> str:
        # The counts, not every record: print(report) stays one line for any run.
        counts = ", ".join(f"{n} {key}" for key, n in self.counts().items())
        return f"<SaveReport {str(self.out_dir)!r}: {counts}; manifest={str(self.manifest)!r}>"


def _short(value: str | None, limit: int = 60) -> str:
    if value is None:
        return "None"
    return repr(value if len(value) <= limit else value[: limit - 1] + "…")


def context_text(context: Mapping[str, Any], key: str) -> str | None:
    """An item's context value (``custom_id``, ...) as text; ``None`` if absent or empty.

    Never raises: a value that cannot be printed (an ``int`` past Python's digit limit, an
    object whose ``str()`` fails) is named by its type instead.
    """
    value = context.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    try:
        return str(value)
    except Exception:  # the value's own str() failed: describe it, never fail the record
        return f"<{type(value).__name__} that cannot be printed>"


def image_record(
    unit: Unit,
    ready: Ready,
    outcome: Outcome,
    path: Path | ObjectPath | None,
    duplicate_of: str | None = None,
) -> ItemRecord:
    """The record of an image that was saved (or found, for `list_images`) at ``path``."""
    image = ready.image
    context = image.context
    reencoded = ready.format != image.format
    return ItemRecord(
        index=unit.index,
        input=unit.input,
        id=image.id,
        status=image.status,
        outcome=outcome,
        path=path,
        format=ready.format,
        width=image.width,
        height=image.height,
        nbytes=len(ready.data),
        sha256=ready.sha256,
        location=str(image.location) if image.location is not None else None,
        custom_id=context_text(context, "custom_id"),
        response_id=context_text(context, "response_id"),
        revised_prompt=context_text(context, "revised_prompt"),
        partial=image.partial,
        partial_index=image.partial_index,
        converted_from=image.format if reencoded else None,
        note=(
            f"re-encoded from {image.format} to {ready.format}: the original's C2PA "
            "provenance manifest is not kept"
            if reencoded and image.c2pa
            else None
        ),
        warnings=image.warnings + ready.notes,
        duplicate_of=duplicate_of,
        c2pa=image.c2pa if ready.data is image.data else has_c2pa(ready.data, ready.format),
    )


def problem_record(
    unit: Unit, found: Problem | ImgcallError, image: DecodedImage | None = None
) -> ItemRecord:
    """The ``"failed"`` record of a unit: a scan problem, a decoding or writing error.

    ``image`` is the decoded image when only writing it failed; otherwise the item is
    described from the unit (or, for a whole input, from the error alone).
    """
    from .items import Item

    context: Mapping[str, Any] = {}
    partial_index: int | None = None
    item_id: str | None = None
    status: str | None = None
    location: object | None = None
    if isinstance(found, Problem):
        error = found.error
        item_id, status, location = found.id, found.status, found.location
        context, partial_index = found.context, found.partial_index
    else:
        error = found
        origin = image if image is not None else unit.found
        if isinstance(origin, (Item, DecodedImage)):
            item_id, status, location = origin.id, str(origin.status), origin.location
            context, partial_index = origin.context, origin.partial_index
        else:  # a whole input that cannot be read
            location = error.location
    return ItemRecord(
        index=unit.index,
        input=unit.input,
        id=item_id,
        status=status,
        outcome="failed",
        location=str(location) if location is not None else None,
        custom_id=context_text(context, "custom_id"),
        response_id=context_text(context, "response_id"),
        revised_prompt=context_text(context, "revised_prompt"),
        partial=partial_index is not None,
        partial_index=partial_index,
        warnings=(
            image.warnings
            if image is not None
            else unit.found.notes
            if isinstance(unit.found, Item)
            else ()
        ),
        error=error,
    )

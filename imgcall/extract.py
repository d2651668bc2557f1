"""`iter_images`: scan a source and decode each item as it is found.

Images are decoded one at a time as the scan reaches them, so at most a few are held in
memory whatever the input's size. The ``errors`` policy decides what happens to items
that cannot be decoded: raise the first error, skip it, or yield it as a `Problem`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal, overload

from .decoding import Check, Limits, decode_call
from .errors import ImgcallError, Problem
from .image import DecodedImage
from .scan import Errors, scan_items

__all__ = ["iter_images"]

_ERRORS = ("raise", "skip", "collect")


@overload
def iter_images(
    source: object,
    *,
    errors: Literal["raise", "skip"] = ...,
    partials: bool = ...,
    limits: Limits | None = ...,
    check: Check = ...,
    strict_status: bool = ...,
    discover: bool = ...,
    storage_options: Mapping[str, Any] | None = ...,
) -> Iterator[DecodedImage]: ...


@overload
def iter_images(
    source: object,
    *,
    errors: Literal["collect"],
    partials: bool = ...,
    limits: Limits | None = ...,
    check: Check = ...,
    strict_status: bool = ...,
    discover: bool = ...,
    storage_options: Mapping[str, Any] | None = ...,
) -> Iterator[DecodedImage | Problem]: ...


def iter_images(
    source: object,
    *,
    errors: Errors = "raise",
    partials: bool = False,
    limits: Limits | None = None,
    check: Check = "fast",
    strict_status: bool = False,
    discover: bool = True,
    storage_options: Mapping[str, Any] | None = None,
) -> Iterator[DecodedImage] | Iterator[DecodedImage | Problem]:
    """Yield a `DecodedImage` for every image in ``source``, decoding as it scans.

    ``source`` is anything `iter_calls` accepts. ``errors``: ``"raise"`` (default) raises
    the first item's `ImgcallError`; ``"skip"`` drops bad items; ``"collect"`` yields a
    `Problem` (id, location, status, error) in their place. ``partials=True`` also
    yields streamed partial images (``image.partial`` is true). ``limits``, ``check``
    and ``strict_status`` are passed to `decode` for each item; ``storage_options`` to
    fsspec for a URL. ``discover=False`` turns off the search by content for JSON no
    known shape claims (see `iter_calls`).

    >>> for image in imgcall.iter_images("batch_output.jsonl", errors="collect"):
    ...     print(image)                                  # doctest: +SKIP

    Raises:
        InvalidInputError: the input as a whole cannot be read or parsed.
    """
    if errors not in _ERRORS:
        raise ValueError(f"errors must be one of {', '.join(_ERRORS)}; got {errors!r}")
    return _iter_images(
        source, errors, partials, limits, check, strict_status, discover, storage_options
    )


def _iter_images(
    source: object,
    errors: Errors,
    partials: bool,
    limits: Limits | None,
    check: Check,
    strict_status: bool,
    discover: bool = True,
    storage_options: Mapping[str, Any] | None = None,
) -> Iterator[DecodedImage | Problem]:
    for found in scan_items(
        source, partials=partials, discover=discover, storage_options=storage_options
    ):
        if isinstance(found, Problem):
            problem = found
        else:
            try:
                yield decode_call(found, limits=limits, check=check, strict_status=strict_status)
                continue
            except ImgcallError as exc:
                problem = Problem(
                    found.id,
                    found.location,
                    str(found.status),
                    exc,
                    dict(found.context),
                    found.partial,
                    found.partial_index,
                )
        if errors == "raise":
            raise problem.error
        if errors == "collect":
            yield problem

"""File names: safe stems, name templates, rename candidates, and the stay-inside check.

Every name imgcall writes starts as untrusted text (an item id, a rendered template) and
passes through here: `safe_stem` makes it a plain stem that cannot reach outside its
folder or hit a Windows device name, `candidate_names` spells the ``rename`` policy's
``name-1.png``, ``name-2.png``, ..., and `path_inside` checks the final name once more
against the folder it must land in. Nothing here touches the disk except to resolve
symlinks in `path_inside`.
"""

from __future__ import annotations

import hashlib
import os
import re
import string
import unicodedata
from collections.abc import Iterator, Mapping
from pathlib import Path

from .errors import OutputError

__all__ = [
    "IMAGE_SUFFIX",
    "MAX_RENAMES",
    "TEMPLATE_FIELDS",
    "candidate_names",
    "check_template",
    "no_free_name",
    "partial_stem",
    "path_inside",
    "render_stem",
    "safe_stem",
]

TEMPLATE_FIELDS = ("id", "index", "custom_id", "response_id", "status", "sha8", "stem")
"""The fields a name template may use."""
MAX_RENAMES = 10_000
"""How many ``-N`` variants of a name the ``rename`` policy tries before giving up."""

_MAX_NAME_BYTES = 255
# Room kept for ".partialN", "-NNNN" (rename) and the extension.
_MAX_STEM_BYTES = 200
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{p}{i}" for p in ("COM", "LPT") for i in "0123456789¹²³"]
)
IMAGE_SUFFIX = re.compile(r"\.(png|jpe?g|webp|gif|svg)$", re.I)
"""An image extension at the end of a name (dropped or corrected: the bytes decide)."""


def safe_stem(text: str, *, fallback: str = "image") -> str:
    """Turn an id (or any text) into a file-name stem that stays inside its folder.

    Separators, NUL, control and shell-hostile characters become ``_``; leading dots
    (hidden files, ``.``/``..``) and trailing dots or spaces are removed; Windows
    reserved names get a ``_`` prefix; an over-long name is cut and given a short hash of
    the original so that different long ids stay different.
    """
    stem = unicodedata.normalize("NFC", text)
    stem = _UNSAFE.sub("_", stem)
    stem = "".join(
        "_" if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp") else ch
        for ch in stem
    )
    stem = stem.strip(" ").lstrip(".").rstrip(". ")
    if not stem:
        return fallback
    # Windows ignores trailing spaces before the dot: "CON .png" is the console too.
    if stem.split(".")[0].rstrip(" ").upper() in _RESERVED:
        stem = "_" + stem
    encoded = stem.encode("utf-8", "surrogatepass")
    if len(encoded) > _MAX_STEM_BYTES:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        cut = encoded[: _MAX_STEM_BYTES - 13].decode("utf-8", "ignore").rstrip(". ")
        stem = f"{cut}-{digest}"
    return stem


def partial_stem(stem: str, partial_index: int | None) -> str:
    """``stem`` for a final image; ``stem.partialK`` for the K-th partial image."""
    return stem if partial_index is None else f"{stem}.partial{partial_index}"


def check_template(template: str) -> None:
    """Raise ``ValueError`` unless ``template`` is a valid name template.

    Only the fields in `TEMPLATE_FIELDS` are allowed, without attribute or index access;
    format specs (``{index:04d}``) are checked against sample values.
    """
    if not isinstance(template, str):
        raise ValueError(f"the name template must be a string, got {type(template).__name__}")
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise ValueError(f"invalid name template {template!r}: {exc}") from exc
    for _, field_name, _, _ in parsed:
        if field_name is not None and field_name not in TEMPLATE_FIELDS:
            shown = field_name or "{}"
            raise ValueError(
                f"unknown field {shown!r} in the name template {template!r}; use "
                + ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS)
            )
    sample = {f: "x" for f in TEMPLATE_FIELDS} | {"index": 0}
    try:
        template.format_map(sample)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise ValueError(f"invalid name template {template!r}: {exc}") from exc


def render_stem(template: str, fields: Mapping[str, object], *, fallback: str) -> str:
    """Fill in a checked template and make the result a `safe_stem`.

    An image extension typed into the template (``{id}.png``) is dropped, since the real
    format's extension is added later; a result with nothing safe left in it becomes
    ``safe_stem(fallback)``.
    """
    rendered = IMAGE_SUFFIX.sub("", template.format_map(fields))
    return safe_stem(rendered, fallback=safe_stem(fallback))


def candidate_names(stem: str, ext: str) -> Iterator[str]:
    """``stem.ext``, then ``stem-1.ext``, ``stem-2.ext``, ... up to `MAX_RENAMES`."""
    yield f"{stem}.{ext}"
    for counter in range(1, MAX_RENAMES + 1):
        yield f"{stem}-{counter}.{ext}"


def no_free_name(stem: str, ext: str) -> OutputError:
    """The error for a name whose every `candidate_names` variant is taken."""
    return OutputError(f"no free name for {stem}.{ext} after {MAX_RENAMES:,} attempts")


def path_inside(folder: Path, file_name: str) -> Path:
    """``folder / file_name``, after making sure that it cannot be anywhere else.

    ``folder`` is an already resolved path. Raises `OutputError` for a name that is not
    one plain, short enough file name directly inside ``folder`` (also through symlinks).
    """
    path = folder / file_name
    if (
        file_name in ("", ".", "..")
        or "\x00" in file_name
        or os.sep in file_name
        or (os.altsep is not None and os.altsep in file_name)
        or len(file_name.encode("utf-8", "surrogatepass")) > _MAX_NAME_BYTES
        or path.parent != folder
        or Path(os.path.realpath(path.parent)) != Path(os.path.realpath(folder))
    ):
        raise OutputError(f"refusing to write {file_name!r}: not a plain name in {folder}")
    return path

"""File names: safe stems, name templates, rename candidates, and the stay-inside check.

Every name imgcall writes starts as untrusted text (an item id, a rendered template) and
passes through here: `safe_stem` makes it a plain stem that cannot reach outside its
folder or hit a Windows device name, `candidate_names` spells the ``rename`` policy's
``name-1.png``, ``name-2.png``, ..., and `path_inside` checks the final name once more
against the folder it must land in. Nothing here touches the disk.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import cast

from . import _accel
from ._lazyre import lazy_pattern
from .errors import OutputError

__all__ = [
    "IMAGE_SUFFIX",
    "MAX_FORMAT_WIDTH",
    "MAX_RENAMES",
    "MAX_TEMPLATE_LENGTH",
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
# Only this much of a longer text can reach a stem (200 bytes), so only this much of it
# is sanitised: character by character, a gigabyte of name would take minutes and GBs.
_LONG_TEXT = 1024
MAX_TEMPLATE_LENGTH = 1024
"""The longest name template accepted, in characters (a file name has at most 255 bytes)."""
MAX_FORMAT_WIDTH = _MAX_NAME_BYTES
"""The largest width or precision a template's format spec may ask for (``{index:0255d}``)."""


# The standard format spec, the only one str and int (every template field) understand:
# [[fill]align][sign][z][#][0][width][grouping][.precision[grouping]][type].
_format_spec = lazy_pattern(
    r"(?:.?[<>=^])?[-+ ]?z?#?0?(?P<width>\d*)[,_]?(?:\.(?P<precision>\d*)[,_]?)?[a-zA-Z%]?",
    re.DOTALL,
)

_unsafe = lazy_pattern(r'[\x00-\x1f\x7f/\\:*?"<>|]')


_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{p}{i}" for p in ("COM", "LPT") for i in "0123456789¹²³"]
)
# A stem that every rule of `safe_stem` keeps unchanged (ASCII, no leading dot, short).
_PLAIN = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,%d}" % (_MAX_STEM_BYTES - 1))  # noqa: UP031
IMAGE_SUFFIX = re.compile(r"\.(png|jpe?g|webp|gif|svg)$", re.I)
"""An image extension at the end of a name (dropped or corrected: the bytes decide)."""


def safe_stem(text: str, *, fallback: str = "image") -> str:
    """Turn an id (or any text) into a file-name stem that stays inside its folder.

    Separators, NUL, control and shell-hostile characters become ``_``; leading dots
    (hidden files, ``.``/``..``) and trailing dots or spaces are removed; Windows
    reserved names get a ``_`` prefix; an over-long name is cut and given a short hash of
    the original so that different long ids stay different. The cost is bounded: only
    the first 1,024 characters of a longer text are looked at (plus its hash).
    """
    if _PLAIN.fullmatch(text) is not None and text[-1] != ".":
        # Already a plain stem (the common id): what the rules below would leave as is.
        return "_" + text if text.split(".")[0].upper() in _RESERVED else text
    cut_short = len(text) > _LONG_TEXT
    stem = unicodedata.normalize("NFC", text[:_LONG_TEXT] if cut_short else text)
    stem = _unsafe().sub("_", stem)
    stem = "".join(
        "_" if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp") else ch
        for ch in stem
    )
    stem = stem.strip(" ").lstrip(".").rstrip(". ")
    if not stem:
        if not cut_short:
            return fallback
        stem = fallback  # the hash below still tells this text from others
    # Windows ignores trailing spaces before the dot: "CON .png" is the console too.
    if stem.split(".")[0].rstrip(" ").upper() in _RESERVED:
        stem = "_" + stem
    encoded = stem.encode("utf-8", "surrogatepass")
    if cut_short or len(encoded) > _MAX_STEM_BYTES:
        digest = _text_hash(text)[:12]
        cut = encoded[: _MAX_STEM_BYTES - 13].decode("utf-8", "ignore").rstrip(". ")
        stem = f"{cut}-{digest}"
    return stem


def _text_hash(text: str) -> str:
    # A slice at a time: a huge text is never encoded whole (a surrogate is one code
    # unit, so a slice boundary never splits a character's encoding).
    digest = _accel.sha256()
    for start in range(0, len(text), 1 << 20):
        digest.update(text[start : start + (1 << 20)].encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def partial_stem(stem: str, partial_index: int | None) -> str:
    """``stem`` for a final image; ``stem.partialK`` for the K-th partial image."""
    return stem if partial_index is None else f"{stem}.partial{partial_index}"


def check_template(template: str) -> None:
    """Raise ``ValueError`` unless ``template`` is a valid name template.

    Only the fields in `TEMPLATE_FIELDS` are allowed, without attribute or index access;
    format specs (``{index:04d}``) are checked against sample values. A template that
    cannot give a sane file name is refused before anything is expanded: one longer
    than `MAX_TEMPLATE_LENGTH`, a width or precision over `MAX_FORMAT_WIDTH`
    (``{index:>999999999}`` would build a gigabyte of name), a field inside a format spec.
    """
    if not isinstance(template, str):
        raise ValueError(f"the name template must be a string, got {type(template).__name__}")
    if len(template) > MAX_TEMPLATE_LENGTH:
        raise ValueError(
            f"the name template is {len(template):,} characters long; at most "
            f"{MAX_TEMPLATE_LENGTH:,} can give a file name"
        )
    try:
        parsed = _parse_template(template)
    except ValueError as exc:
        raise ValueError(f"invalid name template {template!r}: {exc}") from exc
    for _, field_name, spec, _ in parsed:
        if field_name is not None and field_name not in TEMPLATE_FIELDS:
            shown = field_name or "{}"
            raise ValueError(
                f"unknown field {shown!r} in the name template {template!r}; use "
                + ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS)
            )
        if field_name is not None and spec:
            _check_spec(template, field_name, spec)
    # Two indexes: a spec that works for 0 may not for a large one ({index:c}).
    for index in (0, 2**63):
        sample = {f: "x" for f in TEMPLATE_FIELDS} | {"index": index}
        try:
            template.format_map(sample)
        except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
            large = " for a large {index}" if index else ""
            raise ValueError(f"invalid name template {template!r}{large}: {exc}") from exc


def _parse_template(template: str) -> list[tuple[str, str | None, str | None, str | None]]:
    """``string.Formatter().parse(template)``, without importing ``string`` at start-up."""
    import _string  # type: ignore[import-not-found]  # the C parser Formatter.parse calls

    return cast(
        "list[tuple[str, str | None, str | None, str | None]]",
        list(_string.formatter_parser(template)),
    )


def _check_spec(template: str, field_name: str, spec: str) -> None:
    """Refuse a format spec whose width or precision would make an absurd name."""
    field = f"{{{field_name}:{spec}}}"
    where = f"in the name template {template!r}"
    if "{" in spec or "}" in spec:
        raise ValueError(f"a field inside a format spec ({field}) is not supported {where}")
    match = _format_spec().fullmatch(spec)
    if match is None:
        raise ValueError(f"invalid format spec {field} {where}")
    for part in ("width", "precision"):
        digits = (match.group(part) or "").lstrip("0")
        # Compared as text first: int() of thousands of digits is itself refused.
        if len(digits) > len(str(MAX_FORMAT_WIDTH)) or (digits and int(digits) > MAX_FORMAT_WIDTH):
            raise ValueError(
                f"the {part} {digits} of {field} {where} is too large: a file name has at "
                f"most {MAX_FORMAT_WIDTH} bytes"
            )


def render_stem(template: str, fields: Mapping[str, object], *, fallback: str) -> str:
    """Fill in a checked template and make the result a `safe_stem`.

    An image extension typed into the template (``{id}.png``) is dropped, since the real
    format's extension is added later; a result with nothing safe left in it becomes
    ``safe_stem(fallback)``.
    """
    rendered = template.format_map(fields)
    if _PLAIN.fullmatch(rendered) is not None and IMAGE_SUFFIX.search(rendered) is None:
        # The common plain id: no suffix to drop, and a plain text never empties, so
        # the fallback is not needed (it was worked out for every image).
        return safe_stem(rendered)
    return safe_stem(IMAGE_SUFFIX.sub("", rendered), fallback=safe_stem(fallback))


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
    one plain, short enough file name directly inside ``folder``.

    No symlink is resolved: a plain name (no separator, not ``.`` or ``..``) joined to a
    resolved folder has that folder as its parent (tests/test_naming.py checks it for
    any id and template), and what sits at the name itself is
    never followed by the writers (`imgcall.writing` links, never opens, a final name).
    Two ``realpath`` walks per image were a fifth of a run of small images (issue 15).
    """
    if (
        file_name in ("", ".", "..")
        or "\x00" in file_name
        or os.sep in file_name
        or (os.altsep is not None and os.altsep in file_name)
        or len(file_name.encode("utf-8", "surrogatepass")) > _MAX_NAME_BYTES
    ):
        raise OutputError(f"refusing to write {file_name!r}: not a plain name in {folder}")
    return folder / file_name

"""`DecodedImage`: the value object for one decoded image.

It holds the original bytes exactly as the API sent them (provenance metadata such as
C2PA intact), what the bytes are (format, MIME type, extension, size), and where the
image came from. It is a pure value: saving, Pillow and notebook display are delegated
to `imgcall.writing`, `imgcall.decoding` and `imgcall.notebook`, imported on first use.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import _accel
from .formats import FORMATS

if TYPE_CHECKING:
    from PIL import Image

    from .decoding import Limits
    from .models import Location

__all__ = ["DecodedImage"]


@dataclass(frozen=True, eq=False, repr=False)
class DecodedImage:
    """One decoded image: the original bytes plus what they are and where they came from.

    >>> image = imgcall.decode(item)                    # doctest: +SKIP
    >>> image
    <DecodedImage 'ig_123' PNG 1024x1024 1.9 MB completed>
    >>> image.save("out/")                              # doctest: +SKIP
    PosixPath('out/ig_123.png')
    """

    id: str
    """The item id (a stable synthetic id for chat and Images API shapes)."""
    status: str
    """The item's status as the API sent it (``completed``, ``generating``, ...)."""
    data: bytes
    """The original image bytes, unchanged."""
    format: str
    """``"PNG"``, ``"JPEG"``, ``"WEBP"``, ``"GIF"`` or ``"SVG"``, from the magic bytes."""
    width: int | None
    """Width in pixels from the header (``None`` for SVG)."""
    height: int | None
    """Height in pixels from the header (``None`` for SVG)."""
    warnings: tuple[str, ...] = ()
    """Things worth knowing that did not stop decoding (status, declared format)."""
    partial_index: int | None = None
    """0-based index of a partial (preview) image from a stream; ``None`` when final."""
    location: Location | None = None
    """Where the item was found (input name, line, JSON-pointer path)."""
    context: Mapping[str, Any] = field(default_factory=dict)
    """What surrounds the item: ``custom_id``, ``response_id``, ``revised_prompt``, ..."""
    limits: Limits | None = field(default=None, compare=False)
    """The limits the image was decoded under; `to_pil` applies them again."""

    @property
    def mime(self) -> str:
        """MIME type, e.g. ``image/png``."""
        return FORMATS[self.format].mime

    @property
    def extension(self) -> str:
        """File extension without the dot, from the real format (``png``, ``jpg``, ...)."""
        return FORMATS[self.format].extension

    @property
    def partial(self) -> bool:
        """True for a partial (preview) image from a stream."""
        return self.partial_index is not None

    @property
    def size(self) -> tuple[int, int] | None:
        """``(width, height)``, or ``None`` when unknown (SVG)."""
        if self.width is None or self.height is None:
            return None
        return (self.width, self.height)

    @property
    def nbytes(self) -> int:
        """Length of the image file in bytes."""
        return len(self.data)

    @cached_property
    def sha256(self) -> str:
        """Hex SHA-256 of the image bytes (computed once, on first use)."""
        return _accel.sha256(self.data).hexdigest()

    @cached_property
    def c2pa(self) -> bool:
        """True when the bytes carry an embedded C2PA provenance manifest.

        Found from the container alone (a PNG ``caBX`` chunk, a JPEG APP11 JUMBF
        segment, a WebP ``C2PA`` chunk), without decoding pixels or validating anything;
        ``imgcall provenance`` (with ``imgcall[c2pa]``) reads and validates it.
        """
        from .formats import has_c2pa

        return has_c2pa(self.data, self.format)

    def to_pil(self) -> Image.Image:
        """Return a loaded `PIL.Image.Image` (not for SVG, which is never rasterised).

        Raises `CorruptImageError` if the pixels cannot be decoded and
        `ImageTooLargeError` if the image exceeds its limits.
        """
        from .decoding import DEFAULT_LIMITS, open_pil
        from .errors import ImgcallError

        try:
            return open_pil(self.data, self.format, self.limits or DEFAULT_LIMITS)
        except ImgcallError as exc:
            exc.with_origin(id=self.id, location=self.location)
            raise

    def save(
        self,
        path_or_dir: str | os.PathLike[str],
        *,
        on_conflict: str = "error",
        convert: str | None = None,
    ) -> Path:
        """Write the image to a file or into a folder, atomically; return the `Path`.

        Given a folder (an existing directory, or a path ending in a separator), the file
        is named from the id, made safe, with the real format's extension. Given a file
        path, a missing or wrong image extension is corrected to the real one.

        ``on_conflict``: ``"error"`` (default: an existing file with the same bytes counts
        as done, different bytes raise `OutputExistsError`), ``"skip"``, ``"rename"``
        (``name-1.png``, ...) or ``"overwrite"``. ``convert`` (``"png"``, ``"jpeg"``,
        ``"webp"``) re-encodes, which drops provenance metadata such as C2PA.
        """
        from .writing import save_image

        return save_image(self, path_or_dir, on_conflict=on_conflict, convert=convert).path

    def _repr_mimebundle_(
        self,
        include: Any = None,
        exclude: Any = None,
        **kwargs: Any,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Display the image in Jupyter (see `imgcall.notebook`)."""
        from .notebook import image_mimebundle

        return image_mimebundle(self, include=include, exclude=exclude)

    def _describe(self) -> str:
        parts = [repr(self.id), self.format]
        if self.width is not None and self.height is not None:
            parts.append(f"{self.width}x{self.height}")
        parts.append(human_bytes(len(self.data)))
        parts.append(self.status)
        if self.partial_index is not None:
            parts.append(f"partial {self.partial_index}")
        if self.warnings:
            parts.append(f"{len(self.warnings)} warning{'s' if len(self.warnings) > 1 else ''}")
        return " ".join(parts)

    def __repr__(self) -> str:
        return f"<DecodedImage {self._describe()}>"


def human_bytes(n: int) -> str:
    """A size for people: ``233 B``, ``1.9 MB`` (powers of 1000, as file managers show)."""
    value, unit = float(n), "B"
    for bigger in ("kB", "MB", "GB", "TB"):
        if value < 1000:
            break
        value, unit = value / 1000, bigger
    return f"{n} B" if unit == "B" else f"{value:.1f} {unit}"

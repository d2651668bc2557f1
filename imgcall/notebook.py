"""Notebook display: how a `DecodedImage` shows itself in Jupyter.

IPython is never imported here at module level: `import imgcall` must not need it.
"""

from __future__ import annotations

from collections.abc import Container
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .image import DecodedImage

__all__ = ["image_mimebundle"]

# Front ends render these natively; others are shown as a PNG.
_NATIVE = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif"}
_MAX_DISPLAY_WIDTH = 512


def image_mimebundle(
    image: DecodedImage,
    *,
    include: Container[str] | None = None,
    exclude: Container[str] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``(data, metadata)`` bundle IPython displays for ``image``."""
    data: dict[str, Any] = {"text/plain": repr(image)}
    metadata: dict[str, Any] = {}
    mime = _NATIVE.get(image.format)
    if mime is not None:
        data[mime] = image.data
        if image.width is not None and image.height is not None:
            width = min(image.width, _MAX_DISPLAY_WIDTH)
            metadata[mime] = {"width": width}
    if include is not None:
        data = {k: v for k, v in data.items() if k in include}
    if exclude is not None:
        data = {k: v for k, v in data.items() if k not in exclude}
    metadata = {k: v for k, v in metadata.items() if k in data}
    return data, metadata
